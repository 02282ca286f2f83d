/**
 * `monitor run --server`: the key service's audit through its follow stream
 * (GET /v1/audit/follow, src/client/follow.ts). One long-lived connection, authorized once
 * (one `authz.audit.export` record per follow, not per poll); when it ends or drops, the
 * source follows again from the last seq it received, after a backoff with full jitter.
 *
 * The client cannot check the chain's MACs (the key is the service's), so it checks what it
 * can see: seqs are contiguous (a record deleted behind the service's back is a gap, reported
 * as `missing`), never repeat (a duplicate is dropped, never counted twice), and the store's
 * head in each heartbeat is not below what was already taken (`rolled-back`: records removed
 * at the end, a database restored from an older copy). Edits that keep the seq are caught by
 * the service's own `audit verify` and its anchors (docs/monitor.md).
 *
 * The first follow failing fails the start (a refused certificate, a service that is not
 * there). After that, a refusal (403, a rejected certificate) stops the monitor with that
 * error; a service that is down or a dropped connection is retried for ever, with a notice.
 */
import { randomInt } from "node:crypto";
import { KeyServiceError } from "../../client/errors.js";
import type { FollowEvent } from "../../client/follow.js";
import type { RemoteKeyring } from "../../client/remote-keyring.js";
import { isPipesealError } from "../../errors.js";
import { parseAuditLine } from "../parse.js";
import type { MonitorRecord } from "../types.js";
import type { ChainPosition, IntegrityProblem } from "./follow.js";
import { type AuditSource, type SourcePage, pause } from "./source.js";

/** Events held before the reader takes them; the follow pauses (TCP backpressure) past this. */
const MAX_BUFFERED = 10_000;

export interface RemoteSourceOptions {
  /** Seconds between the service's heartbeats (default 5). */
  readonly heartbeatSeconds?: number;
  /** Backoff ceiling between follows after a failure (default 5 s; the first retry is at most 250 ms). */
  readonly maxBackoffMs?: number;
  readonly onNotice?: (message: string) => void;
}

/** Failures a follow again cannot fix: the caller is refused, or misconfigured. */
function permanent(e: unknown): boolean {
  if (e instanceof KeyServiceError) return e.status !== 503 && e.status < 500;
  return isPipesealError(e) && (e.code === "CERT_REJECTED" || e.code === "INVALID_ARGUMENT" || e.code === "CERT_NOT_FOUND");
}

export function remoteSource(kr: RemoteKeyring, o: RemoteSourceOptions = {}): AuditSource {
  const notice = o.onNotice ?? (() => undefined);
  const maxBackoff = o.maxBackoffMs ?? 5000;
  const buffered: FollowEvent[] = [];
  const stop = new AbortController();
  let received = 0; // the last seq received: a new follow starts after it
  let head: number | null = null; // the last heartbeat's head
  let failed: { error: unknown } | null = null; // boxed: whatever a follow threw, rethrown as it was
  let wake: (() => void) | null = null;
  let resume: (() => void) | null = null; // the follow waits here while the buffer is full
  let current: AbortController | null = null;
  let loop: Promise<void> | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };

  const follow = async (first: { resolve: () => void; reject: (e: unknown) => void }) => {
    let failures = 0;
    let started = false;
    while (!stop.signal.aborted) {
      current = new AbortController();
      const signal = AbortSignal.any([stop.signal, current.signal]);
      try {
        const events = kr.followAudit({ afterSeq: received, ...(o.heartbeatSeconds ? { heartbeatSeconds: o.heartbeatSeconds } : {}), signal });
        let gotAny = false;
        for await (const ev of events) {
          if (signal.aborted) break;
          if (!started) {
            started = true;
            first.resolve();
          }
          if (!gotAny && failures > 0) notice(`following the key service's audit again from record ${received}`);
          gotAny = true;
          failures = 0;
          if (ev.type === "record") received = ev.seq;
          buffered.push(ev);
          poke();
          while (buffered.length >= MAX_BUFFERED && !signal.aborted) await new Promise<void>((r) => (resume = r));
        }
      } catch (e) {
        if (stop.signal.aborted) break;
        if (!started) {
          first.reject(e); // at start, any failure is the start's: a monitor that never connected says why
          return;
        }
        if (permanent(e)) {
          failed = { error: e };
          poke();
          return;
        }
        failures++;
        notice(`the key service's audit follow failed (${e instanceof Error ? e.message : String(e)}); following again from record ${received}`);
      }
      if (stop.signal.aborted) break;
      if (failures === 0) continue; // a follow that ended cleanly (its lifetime): follow again at once
      // full jitter: uniform in [0, min(max, 250·2^(failures−1))]
      await pause(randomInt(Math.min(maxBackoff, 250 * 2 ** Math.min(failures - 1, 10)) + 1), stop.signal); // node:crypto randomness only
    }
    if (!started) first.resolve();
  };

  return {
    id: `service:${kr.id}`,
    async start(from) {
      received = from.seq;
      await new Promise<void>((resolve, reject) => {
        loop = follow({ resolve, reject });
      });
    },
    async read(from, limit): Promise<SourcePage> {
      if (failed !== null && buffered.length === 0) throw failed.error;
      const records: MonitorRecord[] = [];
      const problems: IntegrityProblem[] = [];
      let pos: ChainPosition = from;
      while (buffered.length > 0 && records.length < limit) {
        const ev = buffered.shift()!;
        if (ev.type === "heartbeat") {
          head = ev.head;
          if (ev.head < pos.seq) {
            problems.push({
              kind: "rolled-back",
              seq: ev.head,
              seqs: [],
              principal: "unknown",
              key: null,
              detail: `the key service's audit ends at record ${ev.head}, but the monitor had already read up to record ${pos.seq}: records were deleted or the store was restored from an older copy`,
            });
            pos = { seq: ev.head, mac: null };
            // the follow and the next one must start from where the audit now ends
            buffered.length = 0;
            received = ev.head;
            current?.abort();
          }
          continue;
        }
        if (ev.seq <= pos.seq) continue; // already taken: never twice
        if (ev.seq !== pos.seq + 1) {
          const missing = ev.seq - pos.seq - 1;
          problems.push({
            kind: "missing",
            seq: pos.seq + 1,
            seqs: [ev.seq],
            principal: "unknown",
            key: null,
            detail: `audit record(s) ${pos.seq + 1}${missing > 1 ? `..${ev.seq - 1}` : ""} of the key service are missing (deleted before the monitor read them)`,
          });
        }
        records.push(parseAuditLine(ev.line, ev.seq));
        pos = { seq: ev.seq, mac: ev.chainHash };
      }
      resume?.();
      resume = null;
      return { records, problems, pos, caughtUp: buffered.length === 0, atEnd: buffered.length === 0 && head !== null && head <= pos.seq };
    },
    async wait(ms, signal) {
      if (buffered.length > 0 || failed !== null) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
        signal.addEventListener("abort", done, { once: true });
      });
    },
    async close() {
      stop.abort();
      resume?.();
      poke();
      await loop;
    },
  };
}
