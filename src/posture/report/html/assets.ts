/**
 * The page's only style sheet and script, and the Content-Security-Policy that allows exactly
 * these two by hash (CSP Level 3 §8.3 hash-source): no 'unsafe-inline', nothing loaded from anywhere.
 */
import { createHash } from "node:crypto";

export const STYLE = `
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--fail:#cf222e;--fail-bg:#ffebe9;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
header,main,footer{max-width:1240px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:18px 0 8px}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.muted{color:var(--muted)}.count{font-weight:normal;color:var(--muted);font-size:14px}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.pill{border:1px solid var(--line);border-radius:999px;padding:2px 12px;background:#fff}
.verdict{font-weight:600;padding:8px 12px;border-radius:6px;border:1px solid}
.verdict.fail{color:var(--fail);background:var(--fail-bg)}.verdict.warn{color:var(--warn);background:var(--warn-bg)}.verdict.pass{color:var(--pass);background:var(--pass-bg)}
figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px}
#diagram{width:100%;height:auto;display:block}
#diagram .stage rect{stroke-width:2}
#diagram .stage text{text-anchor:middle;font-size:13px}
#diagram .stage .name{font-weight:600;fill:#1f2328}#diagram .stage .status{font-weight:700}#diagram .stage .detail{fill:var(--muted);font-size:11px}
#diagram .st-pass rect{fill:var(--pass-bg);stroke:var(--pass)}#diagram .st-pass .status{fill:var(--pass)}
#diagram .st-warn rect{fill:var(--warn-bg);stroke:var(--warn)}#diagram .st-warn .status{fill:var(--warn)}
#diagram .st-fail rect{fill:var(--fail-bg);stroke:var(--fail);stroke-width:3}#diagram .st-fail .status{fill:var(--fail)}
#diagram .st-unmapped rect{fill:#fff;stroke:var(--line);stroke-dasharray:5 4}#diagram .st-unmapped .status{fill:var(--muted)}
#diagram .conn path{fill:none;stroke-width:2.5}#diagram .conn text{font-size:11px;text-anchor:middle;paint-order:stroke;stroke:#fff;stroke-width:3px}
#diagram .cs-pass path,#diagram marker.cs-pass path{stroke:var(--pass)}#diagram .cs-pass text{fill:var(--pass)}#diagram marker.cs-pass path{fill:var(--pass)}
#diagram .cs-warn path,#diagram marker.cs-warn path{stroke:var(--warn)}#diagram .cs-warn text{fill:var(--warn)}#diagram marker.cs-warn path{fill:var(--warn)}
#diagram .cs-fail path,#diagram marker.cs-fail path{stroke:var(--fail)}#diagram .cs-fail text{fill:var(--fail)}#diagram marker.cs-fail path{fill:var(--fail)}
#diagram .cs-warn>path{stroke-dasharray:8 4}#diagram marker path{stroke-dasharray:none}
#diagram a:focus rect{stroke-width:4}
.answer{background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 16px 8px;margin:10px 0}
.answer ul{padding-left:20px;margin:6px 0}.answer li{margin:4px 0}
.evlinks{font-size:13px;color:var(--muted)}.ev{font:12px ui-monospace,monospace;padding:0 4px;border-radius:4px;border:1px solid var(--line);text-decoration:none}
.badge{font-size:13px;border:1px solid var(--line);border-radius:4px;padding:0 6px;background:#fff}
details.finding{background:#fff;border:1px solid var(--line);border-left:6px solid var(--line);border-radius:6px;margin:6px 0}
details.finding>summary{cursor:pointer;padding:8px 12px;list-style-position:inside}
details.finding[open]>summary{border-bottom:1px solid var(--line)}
details.finding:target{outline:3px solid #0969da}
.finding .body{padding:8px 16px 12px}
.sev{display:inline-block;min-width:7em;box-sizing:border-box;white-space:nowrap;text-align:center;font-size:12px;line-height:18px;font-weight:700;border-radius:4px;padding:1px 8px;color:#fff;vertical-align:middle}
.sev-critical{border-left-color:#82071e}.sev-critical .sev{background:#82071e}
.sev-high{border-left-color:var(--fail)}.sev-high .sev{background:var(--fail)}
.sev-medium{border-left-color:#bc4c00}.sev-medium .sev{background:#bc4c00}
.sev-low{border-left-color:var(--warn)}.sev-low .sev{background:var(--warn)}
.sev-info{border-left-color:var(--muted)}.sev-info .sev{background:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:4px 0 10px}dt{font-weight:600}dd{margin:0}
table{border-collapse:collapse;margin:6px 0;font-size:14px}caption{text-align:left;font-weight:600;padding:2px 0}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa;font-weight:600}
td{word-break:break-all}
.fix{background:var(--pass-bg);border:1px solid var(--pass);border-radius:6px;padding:6px 10px;margin:8px 0}
.about{font-size:14px;color:var(--muted)}.fp{font-size:12px}
button{font:inherit;font-size:13px;padding:2px 10px;border:1px solid var(--line);border-radius:6px;background:#fff;cursor:pointer}
footer{padding:20px;color:var(--muted);font-size:13px}
@media print{details.finding{break-inside:avoid}}
`;

/** Opens the finding a link points at (the answers link to findings inside closed <details>), and expand / collapse all. */
export const SCRIPT = `
(function () {
  "use strict";
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView({ block: "start" }); }
  }
  function setAll(open) {
    var all = document.querySelectorAll("details.finding");
    for (var i = 0; i < all.length; i++) all[i].open = open;
  }
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("DOMContentLoaded", function () {
    openTarget();
    var e = document.getElementById("expand-all"), c = document.getElementById("collapse-all");
    if (e) e.addEventListener("click", function () { setAll(true); });
    if (c) c.addEventListener("click", function () { setAll(false); });
  });
})();
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** default-src 'none': no fetch, image, font, frame or form target; only the two inline blocks by hash. */
export const CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
