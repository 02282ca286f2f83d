/** The closing summary: the stages × data states table, the alert that fired, where to look next. */
import { type Layout, shown } from "./context.js";
import type { RunResult } from "./runner.js";

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)];
}

export function printSummary(r: RunResult, dir: Layout, out: (line: string) => void): void {
  out("");
  if (r.stoppedBy) {
    out(`demo interrupted (${r.stoppedBy}): its servers and jobs are stopped`);
    return;
  }
  if (!r.ok) {
    out(`DEMO FAILED: ${r.error}`);
    return;
  }
  out("Summary: every data state at every stage");
  for (const l of table(
    ["stage", "at rest", "in transit", "in use"],
    r.rows.map((x) => [x.stage, x.atRest, x.inTransit, x.inUse]),
  ))
    out(l);
  if (typeof r.facts.alert === "string") out(`\nAlert: ${r.facts.alert}`);
  out(`\nTimes: ${r.steps.map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(", ")}; total ${(r.totalMs / 1000).toFixed(1)} s`);
  const rel = shown(dir.root);
  const next: [string, string][] = [];
  if (typeof r.facts.report === "string") next.push([shown(r.facts.report), "the posture report (the four answers)"]);
  if (typeof r.facts.keyServiceUrl === "string")
    next.push([`npx pipeseal --home ${rel}/keyservice audit list`, "the key service's audit: every use of the data keys, by identity and rule"]);
  next.push([`npx pipeseal --home ${rel}/.pipeseal audit list`, "every unwrap, sign and admin action"]);
  next.push([`npx pipeseal --home ${rel}/.pipeseal monitor alerts`, "the alert ledger"]);
  next.push(
    typeof r.facts.uiUrl === "string" ? [r.facts.uiUrl, "the dashboard (single-use login link)"] : [`npx pipeseal --home ${rel}/.pipeseal ui`, "the dashboard"],
  );
  const w = Math.max(...next.map(([c]) => c.length));
  out("\nWhere to look next:");
  for (const [c, what] of next) out(`  ${c.padEnd(w)}   ${what}`);
}
