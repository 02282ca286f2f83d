/**
 * Where `monitor run` reads the audit from: the local keystore's SQLite file (this file), or
 * the key service's follow stream (remote-source.ts). A tiny seam: the runner asks for the
 * records after its chain position and waits for more; the source reports what it finds
 * wrong with the chain (missing, edited or rolled-back records) as problems, never silently.
 */
import type { LocalKeystore } from "../../keys/keystore.js";
import type { MonitorRecord } from "../types.js";
import { type ChainPosition, type IntegrityProblem, readAfter } from "./follow.js";
import { toMonitorRecord } from "./records.js";

export interface SourcePage {
  readonly records: MonitorRecord[];
  readonly problems: IntegrityProblem[];
  readonly pos: ChainPosition;
  /** Nothing more to read right now (the runner pauses until `wait` says there may be). */
  readonly caughtUp: boolean;
  /** The records reach the audit's end as the source last knew it (`--once` stops there). */
  readonly atEnd: boolean;
}

export interface AuditSource {
  /** Names the audit the state file belongs to ("local", "service:<keyring id>"): a state of another audit is refused. */
  readonly id: string;
  /** Connects (a remote source authorizes here). @throws what a refusal is (e.g. KeyServiceError ACCESS_DENIED). */
  start(from: ChainPosition): Promise<void>;
  /** At most `limit` records after `from`. @throws when the source failed for good. */
  read(from: ChainPosition, limit: number): Promise<SourcePage>;
  /** Resolves when more may be there, at most after `ms`, or at once on abort. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** The local keystore's audit, read after each poll with its links checked (follow.ts). */
export function localSource(ks: LocalKeystore): AuditSource {
  return {
    id: "local",
    async start() {},
    async read(from, limit) {
      const page = readAfter(ks, from, limit);
      return {
        records: page.records.map(toMonitorRecord),
        problems: page.problems,
        pos: page.pos,
        caughtUp: page.records.length < limit,
        atEnd: page.records.length < limit,
      };
    },
    wait: pause,
    async close() {},
  };
}

export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
