/** The human form of alerts: one block per alert, user strings with control characters escaped. */
import type { Alert } from "./types.js";

/** Principals, keys and context values come from the audit (that is, from callers): a terminal must not interpret them. */
export function escapeControl(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function formatAlerts(alerts: readonly Alert[]): string {
  if (alerts.length === 0) return "no alerts";
  const rows = alerts.map((a) => [
    a.time.slice(0, 19) + "Z",
    a.severity,
    a.detection,
    escapeControl(a.principal),
    a.key === null ? "-" : escapeControl(a.key),
    String(a.seqs.length + a.seqsOmitted),
    a.id,
  ]);
  const head = ["time", "severity", "detection", "principal", "key", "records", "id"];
  const width = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (c.length > width[i] ? c.slice(0, width[i] - 1) + "…" : c.padEnd(width[i])))
      .join("  ")
      .trimEnd();
  const lines = [fmt(head)];
  alerts.forEach((a, i) => {
    lines.push(fmt(rows[i]));
    lines.push(`  ${escapeControl(a.summary)}`);
  });
  return lines.join("\n");
}
