/**
 * What every dashboard page reads from: a keystore's tables (the local keystore, or the key
 * service's SQLite store through its read view), the optional alert and posture sources, the
 * clock. Pages only read here; rights and changes come from the request's Visit (access.ts).
 */
import type Database from "better-sqlite3";
import type { AuditVerifyResult } from "../audit/types.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { PLAINTEXT_OPERATIONS } from "../posture/keys/read.js";
import type { AlertSource } from "./alerts.js";
import type { Frame } from "./layout.js";
import type { PostureSource } from "./posture-source.js";
import type { Query } from "./filter-params.js";
import type { UseCounter } from "./use-counter.js";
import type { Viewer } from "./access.js";

/** The reads the pages make: the same library calls the CLI makes over keystore.db. */
export type DashboardKeystore = Pick<LocalKeystore, "readTables" | "listKeys" | "showKey">;

export interface Dashboard {
  readonly ks: DashboardKeystore;
  readonly now: () => number;
  readonly alerts: AlertSource | null;
  readonly posture: PostureSource | null;
  readonly frame: Frame;
  /** No admin controls are shown and every admin request is refused. */
  readonly readOnly: boolean;
  /** The last "verify chain" result of this server (a full verification reads every record, so it is not run per page). */
  lastVerify: { readonly at: number; readonly result: AuditVerifyResult } | null;
  /** The overview's uses per hour and per day, kept incrementally (use-counter.ts). */
  readonly useCounters: { readonly hour: UseCounter; readonly day: UseCounter };
}

/** Operations that hand a data key (hence plaintext) to the caller: what "decrypts" and "uses" count (the posture report's list). */
export const USE_OPERATIONS: readonly string[] = [...PLAINTEXT_OPERATIONS];

/** One read snapshot of keystore.db (the keystore's own read access for capabilities). */
export function read<T>(d: Dashboard, query: (db: Database.Database) => T): T {
  return d.ks.readTables(query);
}

/** One request as a page sees it: its query, the session's CSRF token for forms, who is looking. */
export interface PageRequest {
  readonly query: Query;
  readonly csrf: string;
  readonly viewer: Viewer;
}
