/**
 * The audit page's exports: the filtered set as JSON lines (pipeseal.audit.v1, the same lines
 * `pipeseal audit export` writes, through the same paged reader and line format) or as CSV of
 * the same fields. The export covers the records up to the head at the moment it was asked
 * for (so it is exactly what the filter matched, not its own audit record), and is audited
 * first by the visit's backend (the local keystore's audit.export record, or the key
 * service's authorized audit.export decision).
 */
import { stringify } from "csv-stringify/sync";
import { auditRecordsPaged, exportContext } from "../audit/export-local.js";
import { type AuditExportRecord, auditExportLine } from "../audit/export.js";
import type { AuditFilter } from "../audit/filter.js";
import { readAuditHead } from "../audit/head.js";
import type { Visit } from "./access.js";
import type { Dashboard } from "./context.js";
import { read } from "./context.js";

export const CSV_COLUMNS = [
  "seq",
  "time",
  "principal",
  "operation",
  "key",
  "version",
  "outcome",
  "errorCode",
  "rule",
  "object",
  "headerHash",
  "context",
  "chainHash",
] as const;

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab / carriage return before one)
 * as a formula (CSV injection, OWASP): principals, object paths and context values are
 * caller-controlled, so such a cell gets a leading apostrophe, which spreadsheets show as text.
 */
export function csvCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvLine(r: AuditExportRecord): string {
  const cells = CSV_COLUMNS.map((c) => {
    const v = r[c];
    return v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  });
  return stringify([cells.map(csvCell)]);
}

/** The export's lines (JSON lines or CSV with a header), after the export is recorded. @throws AuditError(AUDIT_WRITE_FAILED) before any line */
export async function* exportFiltered(d: Dashboard, visit: Visit, filter: AuditFilter, format: "jsonl" | "csv"): AsyncGenerator<string> {
  const head = read(d, (db) => readAuditHead(db))?.seq ?? 0;
  const options = { filter, throughSeq: head };
  await visit.recordExport(exportContext(options));
  if (format === "csv") yield stringify([[...CSV_COLUMNS]]);
  for await (const record of auditRecordsPaged(d.ks, options)) {
    const line = auditExportLine(record);
    yield format === "jsonl" ? line : csvLine(JSON.parse(line) as AuditExportRecord);
  }
}
