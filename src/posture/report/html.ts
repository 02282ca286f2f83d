/**
 * The posture report as one self-contained HTML page: the pipeline diagram (inline SVG), the
 * four review questions answered in plain words with links to their evidence, findings by stage
 * with their fixes, and the baseline comparison. No external requests; a strict CSP allows only
 * the page's own inline style and script, by hash. Every value from the report is escaped.
 */
import type { PostureReport } from "../types.js";
import { SEVERITIES } from "../types.js";
import { renderAnswers } from "./html/answers.js";
import { CSP, SCRIPT, STYLE } from "./html/assets.js";
import { renderDiagram } from "./html/diagram.js";
import { renderBaseline } from "./html/baseline.js";
import { anchorsOf, renderFindings } from "./html/findings.js";
import { esc, plural } from "./html/text.js";

function verdict(report: PostureReport): string {
  const failing = report.stages.filter((s) => s.status === "fail").length + report.connections.filter((c) => c.status === "fail").length;
  const warning = report.stages.filter((s) => s.status === "warn").length + report.connections.filter((c) => c.status === "warn").length;
  if (failing) return `<p class="verdict fail" id="verdict">Not safe yet: ${esc(plural(failing, "stage or connection", "stages or connections"))} failing.</p>`;
  if (warning)
    return `<p class="verdict warn" id="verdict">Mostly safe: ${esc(plural(warning, "stage or connection", "stages or connections"))} with warnings.</p>`;
  return `<p class="verdict pass" id="verdict">Safe as far as these checks see: every examined stage and connection passes.</p>`;
}

function summary(report: PostureReport): string {
  const counts = SEVERITIES.map((s) => `<span class="pill sev-${s}">${esc(`${report.findings.filter((f) => f.severity === s).length} ${s}`)}</span>`);
  return (
    `<div class="summary">${counts.join("")}<span class="pill">${esc(plural(report.stats.filesExamined, "file"))} examined</span>` +
    `<span class="pill">${esc(plural(report.connections.length, "connection"))} probed</span></div>`
  );
}

/**
 * Renders a posture report as a self-contained HTML page.
 * @example
 * writeFileSync("report.html", renderHtml(await runPosture(map)));
 * @throws nothing for any report content: text is escaped, unknown statuses and severities shown neutrally.
 */
export function renderHtml(report: PostureReport): string {
  const anchors = anchorsOf(report);
  const title = `Posture of ${report.map.name}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(CSP)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
<script>${SCRIPT}</script>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="muted">Map <code>${esc(report.map.path)}</code> · generated <time datetime="${esc(report.generatedAt)}">${esc(report.generatedAt)}</time> in ${esc(Math.round(report.durationMs))} ms by ${esc(report.tool.name)} ${esc(report.tool.version)}</p>
${verdict(report)}
${summary(report)}
</header>
<main>
<section id="pipeline"><h2>The pipeline</h2><figure>${renderDiagram(report)}<figcaption class="muted">Boxes are stages, arrows are connections; each is labelled pass, warn or fail. Select a stage to jump to its findings.</figcaption></figure></section>
${renderAnswers(report, anchors)}
${renderBaseline(report, anchors)}
${renderFindings(report, anchors)}
</main>
<footer>Generated ${esc(report.generatedAt)} by ${esc(report.tool.name)} ${esc(report.tool.version)}. This page makes no network requests.</footer>
</body>
</html>
`;
}
