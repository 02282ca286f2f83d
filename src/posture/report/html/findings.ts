/** Findings grouped by stage (STAGES order, then map-wide), worst first, each an expandable <details> with its fix. */
import type { CheckDefinition, Finding, PostureReport, Severity, StageId } from "../../types.js";
import { SEVERITIES, STAGES } from "../../types.js";
import { stageStatus, STATUS_WORD } from "./diagram.js";
import { compareFindings } from "../../finding.js";
import { duration, esc, escWithCode, findingAnchor, plural, stageTitle } from "./text.js";

/** Severities go into class names: an unknown one (hand-edited JSON) is shown as info. */
export const severityClass = (s: Severity): Severity => (SEVERITIES.includes(s) ? s : "info");

function evidenceTable(evidence: Finding["evidence"]): string {
  const rows = Object.entries(evidence ?? {});
  if (rows.length === 0) return `<p class="muted">No evidence recorded.</p>`;
  const cell = (k: string, v: Finding["evidence"][string]) => {
    if (v === null || v === undefined) return `<span class="muted">—</span>`;
    // ages and periods read as durations; the exact seconds stay in the JSON report (and the tooltip)
    if (/Seconds$/.test(k) && typeof v === "number") return `<span title="${esc(v)} s">${esc(duration(v))}</span>`;
    return esc(typeof v === "boolean" ? (v ? "yes" : "no") : v);
  };
  return `<table class="evidence"><caption>Evidence</caption><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k.replace(/Seconds$/, ""))}</th><td>${cell(k, v)}</td></tr>`).join("")}</tbody></table>`;
}

function findingDetails(f: Finding, anchor: string, check: CheckDefinition | undefined): string {
  const sev = severityClass(f.severity);
  return (
    `<details class="finding sev-${sev}" id="${anchor}" data-check="${esc(f.checkId)}">` +
    `<summary><span class="sev">${esc(sev.toUpperCase())}</span> <code class="check">${esc(f.checkId)}</code> <span class="msg">${esc(f.message)}</span></summary>` +
    `<div class="body">` +
    `<dl><dt>Check</dt><dd>${esc(check?.title ?? f.checkId)}</dd><dt>Subject</dt><dd><code>${esc(f.subject)}</code></dd>` +
    `<dt>Location</dt><dd><code class="location">${esc(f.location)}</code></dd></dl>` +
    evidenceTable(f.evidence) +
    `<div class="fix"><strong>Fix:</strong> ${escWithCode(check?.fix ?? "No fix recorded for this check.")}</div>` +
    (check?.description ? `<p class="about"><strong>About this check:</strong> ${escWithCode(check.description)}</p>` : "") +
    `<p class="muted fp">Fingerprint <code>${esc(f.fingerprint)}</code></p>` +
    `</div></details>`
  );
}

function stageSection(
  report: PostureReport,
  stage: StageId | null,
  items: readonly { f: Finding; anchor: string }[],
  checks: ReadonlyMap<string, CheckDefinition>,
): string {
  const id = stage ? `stage-${stage}` : "stage-map-wide";
  const status = stage ? STATUS_WORD[stageStatus(report, stage)] : "";
  const head = `<h3>${esc(stageTitle(stage))}${status ? ` <span class="badge">${esc(status)}</span>` : ""} <span class="count">${esc(plural(items.length, "finding"))}</span></h3>`;
  const body = items.length ? items.map(({ f, anchor }) => findingDetails(f, anchor, checks.get(f.checkId))).join("") : `<p class="muted">No findings.</p>`;
  return `<section class="stage-findings" id="${id}">${head}${body}</section>`;
}

/** Every finding with the anchor the answers link to (same order as the report). */
export function anchorsOf(report: PostureReport): Map<Finding, string> {
  return new Map(report.findings.map((f, i) => [f, findingAnchor(f, i)]));
}

export function renderFindings(report: PostureReport, anchors: ReadonlyMap<Finding, string>): string {
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  const groups: (StageId | null)[] = [...STAGES, null];
  const sorted = [...report.findings].sort(compareFindings);
  const sections = groups.map((stage) => {
    const items = sorted
      .filter((f) => (stage === null ? !STAGES.includes(f.stage as StageId) : f.stage === stage))
      .map((f) => ({ f, anchor: anchors.get(f)! }));
    // a stage with nothing mapped and nothing found, and an empty map-wide group, are left out
    if (items.length === 0 && (stage === null || !report.stages.some((s) => s.id === stage))) return "";
    return stageSection(report, stage, items, checks);
  });
  return (
    `<section id="findings"><h2>Findings <span class="count">${esc(plural(report.findings.length, "finding"))}</span></h2>` +
    `<p class="tools"><button type="button" id="expand-all">Expand all</button> <button type="button" id="collapse-all">Collapse all</button></p>` +
    sections.join("") +
    `</section>`
  );
}
