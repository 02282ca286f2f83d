/** What changed since the baseline (`--baseline`): new findings link to themselves; fixed ones are named by fingerprint. */
import type { Finding, PostureReport } from "../../types.js";
import { esc, plural } from "./text.js";

const MAX = 100;

export function renderBaseline(report: PostureReport, anchors: ReadonlyMap<Finding, string>): string {
  const b = report.baseline;
  if (!b) return "";
  const byPrint = new Map(report.findings.map((f) => [f.fingerprint, f]));
  const added = b.added.slice(0, MAX).map((fp) => {
    const f = byPrint.get(fp);
    return f
      ? `<li><a href="#${anchors.get(f)}"><code>${esc(f.checkId)}</code></a> ${esc(f.message)} <span class="muted">(${esc(f.location)})</span></li>`
      : `<li><code>${esc(fp)}</code></li>`;
  });
  const fixed = b.fixed.slice(0, MAX).map((fp) => `<li><code>${esc(fp)}</code></li>`);
  const more = (n: number) => (n > MAX ? `<li class="muted">and ${n - MAX} more</li>` : "");
  return (
    `<section id="baseline"><h2>Since the baseline</h2><p>Compared with <code>${esc(b.path)}</code>: ` +
    `${esc(plural(b.added.length, "new finding"))}, ${esc(plural(b.fixed.length, "fixed finding"))}.</p>` +
    (added.length ? `<h3>New</h3><ul id="baseline-added">${added.join("")}${more(b.added.length)}</ul>` : "") +
    (fixed.length ? `<h3>Fixed</h3><ul id="baseline-fixed">${fixed.join("")}${more(b.fixed.length)}</ul>` : "") +
    `</section>`
  );
}
