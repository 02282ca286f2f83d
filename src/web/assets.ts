/**
 * The site's stylesheet, served as /assets/site.css (a file, so the CSP needs no inline
 * style), and the client script's location. Chart colours are classes here, so the inline
 * SVG charts carry no style attribute.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const SITE_CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;--accent:#0550ae;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,iframe:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:2}
header.site{display:flex;gap:24px;align-items:center;padding:10px 20px;border-bottom:1px solid var(--line);background:var(--panel);flex-wrap:wrap}
header.site .brand{font-weight:700}
nav ul{display:flex;gap:4px;list-style:none;margin:0;padding:0;flex-wrap:wrap}
nav a{display:block;padding:4px 10px;border-radius:6px;text-decoration:none}
nav a[aria-current=page]{background:var(--accent);color:#fff}
main{padding:16px 20px;max-width:1280px}
h1{font-size:22px;margin:4px 0 12px}h2{font-size:17px;margin:20px 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--panel)}
.card .big{font-size:26px;font-weight:700}
.muted{color:var(--muted)}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;word-break:break-all}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px 12px;align-items:end;margin-bottom:12px}
label{display:flex;flex-direction:column;font-size:13px;color:var(--muted);gap:2px}
input,select,button,textarea{font:inherit;font-size:14px;padding:4px 8px;border:1px solid var(--line);border-radius:6px;background:#fff;color:var(--fg)}
button{cursor:pointer;background:var(--panel)}button.danger{border-color:var(--bad);color:var(--bad)}
button:disabled{opacity:.5;cursor:not-allowed}
.pager{display:flex;gap:12px;margin:10px 0}
.chart{width:100%;max-width:760px;height:auto;display:block}
.chart .bar{fill:#0969da}.chart .grid{stroke:#eaeef2}.chart .axis{font-size:10px;fill:#57606a}
.chart .bar.s0,.swatch.s0{fill:#0969da;background:#0969da}.chart .bar.s1,.swatch.s1{fill:#bf8700;background:#bf8700}.chart .bar.s2,.swatch.s2{fill:#1a7f37;background:#1a7f37}.chart .bar.s3,.swatch.s3{fill:#8250df;background:#8250df}.chart .bar.s4,.swatch.s4{fill:#cf222e;background:#cf222e}.chart .bar.s5,.swatch.s5{fill:#57606a;background:#57606a}
ul.compact{margin:0;padding-left:16px}
.legend{display:flex;gap:12px;list-style:none;padding:0;font-size:13px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
.pill{display:inline-block;padding:0 8px;border-radius:10px;border:1px solid var(--line);font-size:12px}
.pill.enabled,.pill.valid,.pill.ok,.pill.open{border-color:var(--ok);color:var(--ok)}
.pill.disabled,.pill.denied,.pill.expired,.pill.superseded{border-color:var(--warn);color:var(--warn)}
.pill.destroyed,.pill.error,.pill.revoked,.pill.high,.pill.critical{border-color:var(--bad);color:var(--bad)}
details.action{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0}
details.action form{display:flex;gap:8px;align-items:end;flex-wrap:wrap;margin-top:8px}
.notice{border:1px solid var(--line);border-left:4px solid var(--accent);padding:8px 12px;margin:8px 0;background:var(--panel)}
.notice.bad{border-left-color:var(--bad)}.notice.ok{border-left-color:var(--ok)}
iframe.report{width:100%;height:80vh;border:1px solid var(--line);border-radius:8px}
footer{padding:16px 20px;color:var(--muted);font-size:13px}
`;

/** The tab icon (a browser asks for one; without it every page logs a 404). */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0550ae"/><path d="M5 7V5a3 3 0 0 1 6 0v2h1v6H4V7zm2 0h2V5a1 1 0 0 0-2 0z" fill="#fff"/></svg>`;

/** The compiled client script (src/web/client/app.ts → dist/web/client/app.js), read once. */
export function clientScript(): string {
  // from the TypeScript sources (in-process tests), the build's copy when there is one; without either the pages still work
  for (const rel of ["./client/app.js", "../../dist/web/client/app.js"]) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return readFileSync(file, "utf8");
  }
  return "";
}
