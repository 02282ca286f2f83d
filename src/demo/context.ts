/**
 * What the demo's stages share: the folder layout, the keystore, the certificates, the running
 * servers (each registered for the runner to stop), the summary rows and the evidence the
 * stages leave for the last one and for the tests.
 */
import path from "node:path";
import type { RemoteKeyring } from "../client/remote-keyring.js";
import type { Keyring } from "../keys/keyring.js";
import type { LocalKeystore } from "../keys/keystore.js";

/** The demo's folder layout, all under one root (`--dir`, default `.demo/`). */
export interface Layout {
  readonly root: string;
  readonly home: string;
  /** The key service's store (`--service`). */
  readonly keyservice: string;
  readonly certs: (service: string) => string;
  readonly landing: string;
  readonly features: string;
  readonly training: string;
  readonly corpus: string;
  readonly registry: string;
  readonly checkpoints: string;
  readonly logs: (stream: string) => string;
  readonly monitor: string;
  readonly evidence: string;
}

export function layout(root: string): Layout {
  const r = path.resolve(root);
  return {
    root: r,
    home: path.join(r, ".pipeseal"),
    keyservice: path.join(r, "keyservice"),
    certs: (service) => path.join(r, "certs", service),
    landing: path.join(r, "stores", "landing"),
    features: path.join(r, "stores", "features"),
    training: path.join(r, "stores", "training"),
    // a SQLite file of field-encrypted rows, not sealed files: outside stores/, where every file is sealed
    corpus: path.join(r, "rag"),
    registry: path.join(r, "stores", "registry"),
    checkpoints: path.join(r, "stores", "checkpoints"),
    logs: (stream) => path.join(r, "logs", stream),
    monitor: path.join(r, "monitor"),
    evidence: path.join(r, "evidence"),
  };
}

/** One row of the closing table: a stage and the control applied to each data state. */
export interface SummaryRow {
  readonly stage: string;
  readonly atRest: string;
  readonly inTransit: string;
  readonly inUse: string;
}

/** A server or process the runner stops at the end (or on SIGINT), whatever happened. */
export interface Stoppable {
  readonly name: string;
  /** `https://127.0.0.1:port` for a server (printed, and checked as closed at the end). */
  readonly url?: string;
  stop(): Promise<void>;
}

/** The key service the data keys live in (`--service`), reached as each demo service's identity. */
export interface KeyServiceLink {
  readonly url: string;
  /** The service as `service`'s identity (its client certificate under certs/). */
  as(service: string): Promise<RemoteKeyring>;
}

export interface Demo {
  readonly dir: Layout;
  /** The operator's keystore: the CA, the field and corpus keys, models, checkpoints, logs, the monitor's ledger; without --service, every key. */
  readonly ks: LocalKeystore;
  /** With --service, the key service (started by the keys stage); else null. */
  service: KeyServiceLink | null;
  /** `--service` was given: the keys stage starts the service. */
  readonly withService: boolean;
  readonly trustDomain: string;
  /** Narrates one line under the current step. */
  say(line: string): void;
  /** Progress of a longer step (overwritten in place on a terminal). */
  progress(done: number, total: number, what: string): void;
  /** Registers a server or process for the runner to stop. */
  started(s: Stoppable): void;
  /** Adds the stage's row to the summary table. */
  row(r: SummaryRow): void;
  /** The keystore opened as a service's identity (spiffe://…/prod/<service>): its unwraps are audited as that identity. */
  as(service: string): Promise<LocalKeystore>;
  /** The keyring a service seals and opens pipeline data with: the key service as that identity with --service, else the keystore as it. */
  data(service: string): Promise<Keyring>;
  /** Facts later stages and the evidence need (URLs, counts, the alert). */
  readonly facts: Record<string, unknown>;
}

/** A failed check: the demo stops and exits non-zero. */
export class DemoCheckFailed extends Error {
  override readonly name = "DemoCheckFailed";
}

/** Throws DemoCheckFailed with `what` unless `ok`. */
export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new DemoCheckFailed(what);
}

/** Identity of a demo service: `spiffe://<trust domain>/prod/<service>`. */
export const spiffe = (d: Pick<Demo, "trustDomain">, service: string): string => `spiffe://${d.trustDomain}/prod/${service}`;

/** A path as the user should type it: relative to the working folder when under it. */
export function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}
