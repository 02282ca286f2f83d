/** A stored audit record as the engine reads it: the same mapping as an export line (audit/export.ts) through parse.ts. */
import { toAuditExportRecord } from "../../audit/export.js";
import type { AuditRecord } from "../../audit/types.js";
import type { MonitorRecord } from "../types.js";

export function toMonitorRecord(r: AuditRecord): MonitorRecord {
  const e = toAuditExportRecord(r);
  return {
    seq: e.seq,
    timeMs: Date.parse(e.time),
    principal: e.principal,
    operation: e.operation,
    key: e.key,
    object: e.object,
    headerHash: e.headerHash,
    context: e.context,
    outcome: e.outcome,
    errorCode: e.errorCode,
  };
}
