/**
 * `audit export` on the local keystore: pages through the audit table by `seq` (1,000
 * records per read) so memory stays flat however long the log is, and records the export
 * itself first — an export is a read of everything the log holds, so it is audited like
 * the key service audits `audit.export`.
 *
 * @example
 * for await (const line of exportLocalAudit(ks, { sinceMs: Date.now() - 86_400_000 })) out.write(line);
 */
import type { AuditRow } from "./schema.js";
import type { AuditRecord } from "./types.js";
import { auditExportLine } from "./export.js";
import { toRecord } from "./list.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { cached } from "../io/statement.js";

const PAGE = 1000;

export interface ExportAuditOptions {
  /** Only records at or after this epoch-millisecond time. */
  readonly sinceMs?: number;
  /** Only records after this seq: a SIEM resumes from the last seq it stored. */
  readonly afterSeq?: number;
}

/** The audit-record context of an export (what it asked for). */
export function exportContext(options: ExportAuditOptions): Record<string, string> {
  return {
    ...(options.sinceMs === undefined ? {} : { since: new Date(options.sinceMs).toISOString() }),
    ...(options.afterSeq === undefined ? {} : { afterSeq: String(options.afterSeq) }),
  };
}

/** Records oldest first, read 1,000 per query by seq (memory stays flat however long the log is). */
export async function* auditRecordsPaged(ks: LocalKeystore, options: ExportAuditOptions = {}): AsyncGenerator<AuditRecord> {
  const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
  for (let after = options.afterSeq ?? 0; ; ) {
    const rows = ks.readTables((db) => cached(db, "SELECT * FROM audit WHERE time >= ? AND seq > ? ORDER BY seq LIMIT ?").all(since, after, PAGE) as AuditRow[]);
    if (rows.length === 0) return;
    for (const row of rows) yield toRecord(row);
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * Appends the `audit.export` record, then yields export lines oldest first (the export's own
 * record is the last line when nothing else writes meanwhile).
 * @throws AuditError(AUDIT_WRITE_FAILED) before any line if the export cannot be recorded (fail closed).
 */
export async function* exportLocalAudit(ks: LocalKeystore, options: ExportAuditOptions = {}): AsyncGenerator<string> {
  const context = exportContext(options);
  ks.appendAuditEvent({ operation: "audit.export", principal: ks.principal, outcome: "ok", ...(Object.keys(context).length > 0 ? { context } : {}) });
  for await (const record of auditRecordsPaged(ks, options)) yield auditExportLine(record);
}
