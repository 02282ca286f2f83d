/** The human form of the ledger (`monitor alerts`): one block per alert, with its ack; user strings escaped. */
import { escapeControl } from "../table.js";
import type { StoredAlert } from "./alerts.js";

export function formatStoredAlerts(items: readonly StoredAlert[]): string {
  if (items.length === 0) return "no alerts";
  const head = ["time", "severity", "detection", "principal", "key", "records", "incident", "ack", "id"];
  const rows = items.map(({ alert: a, ack }) => [
    a.time.slice(0, 19) + "Z",
    a.severity,
    a.detection,
    escapeControl(a.principal),
    a.key === null ? "-" : escapeControl(a.key),
    String(a.seqs.length + a.seqsOmitted),
    a.state === "open" ? "active" : "ended",
    ack ? "acked" : "OPEN",
    a.id,
  ]);
  const width = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (c.length > width[i] ? c.slice(0, width[i] - 1) + "…" : c.padEnd(width[i])))
      .join("  ")
      .trimEnd();
  const lines = [fmt(head)];
  items.forEach((s, i) => {
    lines.push(fmt(rows[i]));
    lines.push(`  ${escapeControl(s.alert.summary)}`);
    if (s.ack) lines.push(`  acked ${s.ack.time.slice(0, 19)}Z by ${escapeControl(s.ack.by)}: ${escapeControl(s.ack.note)}`);
  });
  return lines.join("\n");
}
