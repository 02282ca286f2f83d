/** The terminal summary: the four answers in brief, stages with pass/fail counts, findings worst first. */
import { humanizeDuration } from "../../io/duration.js";
import { printable } from "../../io/printable.js";
import type { Finding, PostureReport, Status } from "../types.js";

const MARK: Record<Status, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };

export function renderTerminal(report: PostureReport, options: { maxFindings?: number } = {}): string {
  const max = options.maxFindings ?? 50;
  const out: string[] = [];
  const failing = report.findings.filter((f) => f.severity !== "info");
  out.push(
    `posture of ${printable(report.map.name)}: ${failing.length} finding(s), ${report.findings.length - failing.length} note(s); ${report.stats.filesExamined} files examined in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  out.push("");
  out.push("stages");
  for (const s of report.stages) {
    const checks = report.findings.filter((f) => f.stage === s.id && f.severity !== "info");
    out.push(
      `  ${MARK[s.status]}  ${printable(s.id).padEnd(11)} ${String(s.stores).padStart(2)} store(s)  ${checks.length} finding(s)${checks.length ? "  " + worstIds(checks) : ""}`,
    );
  }
  for (const c of report.connections) out.push(`  ${MARK[c.status]}  ${printable(c.id)} (${printable(c.from)} -> ${printable(c.to)})`);
  const mapWide = failing.filter((f) => f.stage === null);
  if (mapWide.length) out.push(`  FAIL  keys/audit  ${mapWide.length} finding(s)  ${worstIds(mapWide)}`);
  const failedChecks = report.checks.filter((c) => c.failed > 0).length;
  out.push("");
  out.push(`checks: ${report.checks.length - failedChecks} passed, ${failedChecks} failed`);
  if (report.baseline) out.push(`since ${printable(report.baseline.path)}: ${report.baseline.added.length} new, ${report.baseline.fixed.length} fixed`);
  const oldest = report.answers.retention.reduce<number | null>((m, r) => (r.oldestSeconds === null ? m : Math.max(m ?? 0, r.oldestSeconds)), null);
  out.push(`plaintext: ${report.answers.plaintext.length} place(s); oldest retained data: ${oldest === null ? "n/a" : humanizeDuration(oldest)}`);
  for (const a of report.answers.access)
    if (a.openAlerts?.length)
      out.push(
        `open monitor alerts on ${printable(a.key)}: ${a.openAlerts.map((o) => `${o.severity} ${o.detection} (${printable(o.principal)}, ${o.id})`).join(", ")}`,
      );
  if (report.findings.length) {
    out.push("");
    out.push("findings (worst first)");
    for (const f of report.findings.slice(0, max))
      out.push(`  ${f.severity.toUpperCase().padEnd(8)} ${printable(f.checkId).padEnd(26)} ${printable(f.message)}`); // messages quote paths, principals, key names
    if (report.findings.length > max) out.push(`  … ${report.findings.length - max} more (use --json or --sarif for all)`);
    out.push("");
    out.push("`pipeseal posture explain <check-id>` says what a check verifies and how to fix it.");
  }
  return out.join("\n") + "\n";
}

function worstIds(findings: readonly Finding[]): string {
  return [...new Set(findings.map((f) => printable(f.checkId)))].slice(0, 3).join(", ");
}
