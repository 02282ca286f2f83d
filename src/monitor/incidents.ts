/**
 * Incidents: one growing alert per principal × key × detection while its records keep coming
 * within the dedupe window; a record after a quiet window opens a new one. Suppressed incidents
 * are tracked the same way (so a silenced pattern is recorded once, not per record).
 */
import { createHash } from "node:crypto";
import type { Suppression } from "./config.js";
import { summarize } from "./summary.js";
import { ALERT_SCHEMA, type Alert, type DetectionId, type EvidenceValue, type HealthDetectionId, type Severity } from "./types.js";

export interface Incident {
  readonly id: string;
  readonly detection: DetectionId;
  readonly severity: Severity;
  readonly principal: string;
  readonly key: string | null;
  readonly firstMs: number;
  lastMs: number;
  readonly seqs: number[];
  omitted: number;
  /** Largest seq taken: seqs only grow, so a seq is added once. */
  maxSeq: number;
  evidence: Record<string, EvidenceValue>;
  /** New values behind a new-context alert (learned when it closes). */
  readonly newValues: string[];
  readonly suppressedBy: Suppression | null;
  dirty: boolean;
}

export type IncidentEvent =
  | { readonly type: "open"; readonly alert: Alert }
  | { readonly type: "close"; readonly alert: Alert }
  | { readonly type: "suppressed"; readonly alert: Alert; readonly suppression: Suppression };

/** Stable: the same incident seen by `monitor check` and by a restarted `monitor run` has one id. */
export function alertId(detection: DetectionId | HealthDetectionId, principal: string, key: string | null, firstSeq: number): string {
  return (
    "al_" +
    createHash("sha256")
      .update(`${detection}\0${principal}\0${key ?? ""}\0${firstSeq}`)
      .digest("hex")
      .slice(0, 24)
  );
}

export function incidentKey(detection: DetectionId, principal: string, key: string | null): string {
  return `${detection}\0${principal}\0${key ?? "\u0001"}`;
}

/** Appends ascending seqs (those above the largest taken), up to `max`; the rest are counted. */
export function addSeqs(inc: Incident, seqs: readonly number[], max: number): void {
  for (const s of seqs) {
    if (s <= inc.maxSeq) continue;
    inc.maxSeq = s;
    if (inc.seqs.length < max) inc.seqs.push(s);
    else inc.omitted++;
  }
  inc.dirty = true;
}

/** Merges evidence: numbers keep their largest value (observed peaks), other values the newest. */
export function mergeEvidence(inc: Incident, evidence: Readonly<Record<string, EvidenceValue>>): void {
  for (const [k, v] of Object.entries(evidence)) {
    const old = inc.evidence[k];
    inc.evidence[k] = typeof v === "number" && typeof old === "number" && !k.startsWith("baseline") && !k.startsWith("threshold") ? Math.max(old, v) : v;
  }
}

export function toAlert(inc: Incident, state: "open" | "closed"): Alert {
  return {
    schema: ALERT_SCHEMA,
    id: inc.id,
    detection: inc.detection,
    severity: inc.severity,
    principal: inc.principal,
    key: inc.key,
    time: new Date(inc.firstMs).toISOString(),
    lastTime: new Date(inc.lastMs).toISOString(),
    state,
    seqs: inc.seqs.slice(),
    seqsOmitted: inc.omitted,
    summary: summarize(inc.detection, inc.principal, inc.key, inc.evidence),
    evidence: { ...inc.evidence, records: inc.seqs.length + inc.omitted },
  };
}
