/**
 * Posture: the latest report's content — the existing HTML report, pipeline diagram included,
 * served as its own page (its own hash-based CSP) and framed here — and the history.
 */
import { renderHtml } from "../../posture/report/html.js";
import type { PostureReport } from "../../posture/types.js";
import type { Dashboard } from "../context.js";
import { type Raw, html, link, num, time } from "../html.js";

export function postureVerdict(report: PostureReport): Raw {
  const failing = report.stages.filter((s) => s.status === "fail").length + report.connections.filter((c) => c.status === "fail").length;
  const warning = report.stages.filter((s) => s.status === "warn").length + report.connections.filter((c) => c.status === "warn").length;
  if (failing) return html`<p class="bad"><strong>Not safe yet:</strong> ${num(failing)} failing stage(s) or connection(s) in <em>${report.map.name}</em>.</p>`;
  if (warning) return html`<p class="warn"><strong>Mostly safe:</strong> ${num(warning)} with warnings in <em>${report.map.name}</em>.</p>`;
  return html`<p class="ok"><strong>Passing:</strong> every examined stage and connection of <em>${report.map.name}</em>.</p>`;
}

export function posturePage(d: Dashboard, id: string | undefined): Raw {
  if (d.posture === null)
    return html`<p class="muted">No posture reports: start <code>pipeseal ui --posture DIR</code> with a folder of <code>pipeseal posture check --json</code> reports.</p>`;
  const all = d.posture.list();
  if (all.length === 0) return html`<p class="muted">No posture report in ${d.posture.description}.</p>`;
  const shown = all.find((e) => e.id === id) ?? all[0];
  const src = link(`${d.frame.base}posture/report`, { id: shown.id });
  return html`${postureVerdict(shown.report)}
<p>Report <code>${shown.id}</code>, generated ${time(shown.report.generatedAt)} · ${num(shown.report.findings.length)} finding(s). <a href="${src}">Open the report on its own</a>.</p>
<iframe class="report" src="${src}" title="Posture report ${shown.id}"></iframe>
<h2>History</h2>
<table><thead><tr><th scope="col">Generated</th><th scope="col">Report</th><th scope="col">Map</th><th class="num" scope="col">Findings</th><th scope="col">Result</th></tr></thead><tbody>
${all.map((e) => html`<tr><td>${time(e.report.generatedAt)}</td><td><a href="${link(`${d.frame.base}posture`, { id: e.id })}">${e.id}</a></td><td>${e.report.map.name}</td><td class="num">${num(e.report.findings.length)}</td><td>${postureVerdict(e.report)}</td></tr>`)}
</tbody></table>`;
}

/** The report page itself (rendered by the posture module; the caller sends it with the report's own CSP). */
export function postureReportHtml(d: Dashboard, id: string | undefined): string | null {
  const all = d.posture?.list() ?? [];
  const e = all.find((x) => x.id === id) ?? all[0];
  return e === undefined ? null : renderHtml(e.report);
}
