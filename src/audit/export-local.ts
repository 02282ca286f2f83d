/**
 * `audit export` on the local keystore: pages through the audit table by `seq` (1,000
 * records per read) so memory stays flat however long the log is, and records the export
 * itself first — an export is a read of everything the log holds, so it is audited like
 * the key service audits `audit.export`.
 *
 * @example
 * for await (const line of exportLocalAudit(ks, { sinceMs: Date.now() - 86_400_000 })) out.write(line);
 */
import { auditExportLine } from "./export.js";
import { type AuditFilter, filterContext } from "./filter.js";
import { filteredAuditRecords } from "./query.js";
import type Database from "better-sqlite3";
import type { AuditEvent, AuditRecord } from "./types.js";

/**
 * What an export needs of a local keystore: its principal, a read of its tables and an audit
 * append. Declared here, below keys/, so audit/ takes no type from the keystore
 * (a LocalKeystore is one).
 */
export interface LocalAuditSource {
  readonly principal: string;
  readTables<T>(query: (db: Database.Database) => T): T;
  appendAuditEvent(event: AuditEvent): unknown;
}

export interface ExportAuditOptions {
  /** Only records at or after this epoch-millisecond time. */
  readonly sinceMs?: number;
  /** Only records after this seq: a SIEM resumes from the last seq it stored. */
  readonly afterSeq?: number;
  /** Only the records this filter matches (src/audit/filter.ts: the dashboard's filters). */
  readonly filter?: AuditFilter;
  /** Only records up to this seq: the dashboard exports what the page showed, not the export's own record. */
  readonly throughSeq?: number;
}

/** The audit-record context of an export (what it asked for). */
export function exportContext(options: ExportAuditOptions): Record<string, string> {
  return {
    ...(options.sinceMs === undefined ? {} : { since: new Date(options.sinceMs).toISOString() }),
    ...(options.afterSeq === undefined ? {} : { afterSeq: String(options.afterSeq) }),
    ...(options.throughSeq === undefined ? {} : { throughSeq: String(options.throughSeq) }),
    ...(options.filter === undefined ? {} : filterContext(options.filter)),
  };
}

/** Records oldest first, read 1,000 per query by seq (memory stays flat however long the log is). */
export async function* auditRecordsPaged(ks: Pick<LocalAuditSource, "readTables">, options: ExportAuditOptions = {}): AsyncGenerator<AuditRecord> {
  const filter: AuditFilter = { ...options.filter, ...(options.sinceMs === undefined ? {} : { sinceMs: options.sinceMs }) };
  const read = <T>(q: (db: Database.Database) => T): T => ks.readTables(q);
  for (const record of filteredAuditRecords(read, filter, { afterSeq: options.afterSeq ?? 0 })) {
    if (options.throughSeq !== undefined && record.seq > options.throughSeq) return;
    yield record;
  }
}

/**
 * Appends the `audit.export` record, then yields export lines oldest first (the export's own
 * record is the last line when nothing else writes meanwhile).
 * @throws AuditError(AUDIT_WRITE_FAILED) before any line if the export cannot be recorded (fail closed).
 */
export async function* exportLocalAudit(ks: LocalAuditSource, options: ExportAuditOptions = {}): AsyncGenerator<string> {
  recordLocalExport(ks, exportContext(options));
  for await (const record of auditRecordsPaged(ks, options)) yield auditExportLine(record);
}

/** The local keystore's `audit.export` record of an export asking for `context` (its options, exportContext). @throws AuditError(AUDIT_WRITE_FAILED) */
export function recordLocalExport(ks: Omit<LocalAuditSource, "readTables">, context: Record<string, string>): void {
  ks.appendAuditEvent({ operation: "audit.export", principal: ks.principal, outcome: "ok", ...(Object.keys(context).length > 0 ? { context } : {}) });
}
