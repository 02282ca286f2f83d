/** One plain sentence per alert: what was seen against what is normal. */
import type { DetectionId, EvidenceValue } from "./types.js";

type Ev = Readonly<Record<string, EvidenceValue>>;

const n = (v: EvidenceValue | undefined) => (typeof v === "number" ? String(Math.round(v * 10) / 10) : String(v ?? "?"));

export function summarize(detection: DetectionId, principal: string, key: string | null, e: Ev): string {
  const on = key === null ? "" : ` on key ${key}`;
  switch (detection) {
    case "new-principal":
      return e.principalKnown
        ? `${principal} used key ${key} for the first time (it never did while learning).`
        : `${principal} was never seen while learning and is now active${on}.`;
    case "volume-spike":
      return `${principal} made ${n(e.observed)} requests${on} in one hour (${e.hourOfWeek}); the baseline for that hour is ${n(e.baseline)} (threshold ${n(e.threshold)}).`;
    case "off-hours":
      return `${principal} was active at ${e.hourOfWeek}, an hour where its baseline (${n(e.baselineActiveHours)} active hours of the week) has no activity.`;
    case "new-context":
      return `${principal} used${on} encryption-context values it never used while learning: ${e.newValues}.`;
    case "bulk-read":
      return `${principal} read ${n(e.objects)} distinct objects${on} within ${n(e.windowSeconds)} s; its baseline peak is ${n(e.baselinePeak)} (threshold ${n(e.threshold)}).`;
    case "denial-burst":
      return `${principal} was refused ${n(e.denials)} times within ${n(e.windowSeconds)} s (threshold ${n(e.threshold)}; single denials are normal).`;
    case "honeytoken":
      return `${principal} used a honeytoken (${e.match}): no legitimate job touches it.`;
  }
}
