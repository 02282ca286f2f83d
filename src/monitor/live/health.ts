/** The monitor's own alerts (types.ts HEALTH_DETECTIONS): built here, not by the engine, and always critical. */
import { alertId } from "../incidents.js";
import { ALERT_SCHEMA, type Alert, type EvidenceValue, type HealthDetectionId } from "../types.js";

/** `anchorSeq` (and `subject`, when several problems share a seq) make the id: the same problem seen again after a restart has the same id, so the ledger records it once. */
export function healthAlert(
  detection: HealthDetectionId,
  o: {
    principal: string;
    key?: string | null;
    seqs: readonly number[];
    anchorSeq: number;
    subject?: string;
    timeMs: number;
    summary: string;
    evidence: Record<string, EvidenceValue>;
  },
): Alert {
  const time = new Date(o.timeMs).toISOString();
  return {
    schema: ALERT_SCHEMA,
    id: alertId(detection, o.subject === undefined ? o.principal : `${o.principal}\0${o.subject}`, o.key ?? null, o.anchorSeq),
    detection,
    severity: "critical",
    principal: o.principal,
    key: o.key ?? null,
    time,
    lastTime: time,
    state: "closed", // a single event: it does not grow
    seqs: [...o.seqs],
    seqsOmitted: 0,
    summary: o.summary,
    evidence: { ...o.evidence, records: o.seqs.length },
  };
}
