/** Reading audit records. */
import type Database from "better-sqlite3";
import type { AuditRow } from "./schema.js";
import type { AuditOutcome, AuditRecord } from "./types.js";
import { cached } from "../io/statement.js";

export interface ListAuditOptions {
  /** Only records at or after this epoch-millisecond time. */
  readonly sinceMs?: number;
  /** At most this many records: the most recent ones. */
  readonly limit?: number;
}

/** Records in ascending `seq` order (the most recent `limit` of them when a limit is given). */
export function listAuditRecords(db: Database.Database, options: ListAuditOptions = {}): AuditRecord[] {
  const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
  const limit = options.limit ?? -1;
  const rows = cached(db, "SELECT * FROM (SELECT * FROM audit WHERE time >= ? ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC").all(since, limit) as AuditRow[];
  return rows.map(toRecord);
}

export function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    time: row.time,
    principal: row.principal,
    operation: row.operation,
    keyName: row.key_name,
    keyVersion: row.key_version,
    objectPath: row.object_path,
    headerHash: row.header_hash,
    context: row.context,
    outcome: row.outcome as AuditOutcome,
    errorCode: row.error_code,
    mac: Buffer.from(row.mac).toString("hex"),
  };
}
