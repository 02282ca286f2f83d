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
import { auditExportLine } from "./export.js";
import { toRecord } from "./list.js";
import type { LocalKeystore } from "../keys/keystore.js";

const PAGE = 1000;

export interface ExportAuditOptions {
  /** Only records at or after this epoch-millisecond time. */
  readonly sinceMs?: number;
}

/**
 * Appends the `audit.export` record, then yields export lines oldest first (the export's own
 * record is the last line when nothing else writes meanwhile).
 * @throws AuditError(AUDIT_WRITE_FAILED) before any line if the export cannot be recorded (fail closed).
 */
export async function* exportLocalAudit(ks: LocalKeystore, options: ExportAuditOptions = {}): AsyncGenerator<string> {
  const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
  ks.appendAuditEvent({ operation: "audit.export", principal: ks.principal, outcome: "ok", ...(since ? { context: { since } } : {}) });
  let after = 0;
  for (;;) {
    const rows = ks.readTables((db) => db.prepare("SELECT * FROM audit WHERE time >= ? AND seq > ? ORDER BY seq LIMIT ?").all(since, after, PAGE) as AuditRow[]);
    if (rows.length === 0) return;
    for (const row of rows) yield auditExportLine(toRecord(row));
    after = rows[rows.length - 1]!.seq;
  }
}
