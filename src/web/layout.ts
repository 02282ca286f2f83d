/** The page frame every dashboard page shares: navigation, skip link, the site's CSS and script (files, never inline). */
import type { Viewer } from "./access.js";
import { type Raw, html } from "./html.js";

export const NAV = [
  ["overview", "Overview", ""],
  ["keys", "Keys", "keys"],
  ["audit", "Audit", "audit"],
  ["principals", "Principals", "principals"],
  ["alerts", "Alerts", "alerts"],
  ["certificates", "Certificates", "certificates"],
  ["posture", "Posture", "posture"],
] as const;

export type PageId = (typeof NAV)[number][0];

export interface Frame {
  /** The site's path prefix: "/" locally, "/ui/" in the key service. */
  readonly base: string;
  /** Whose keystore or service this is (shown in the header). */
  readonly label: string;
  readonly identity: string;
  /** The pages the navigation offers (default: all); a page the viewer may not see is not linked. */
  readonly pages?: ReadonlySet<PageId>;
}

/** The pages a viewer may open: the audit's and the principals' need audit.read, the keys' key.list. */
export function visiblePages(v: Viewer): ReadonlySet<PageId> {
  return new Set(
    NAV.map(([id]) => id).filter((id) => (id === "audit" || id === "principals" ? v.can("audit.read") : id === "keys" ? v.can("key.list") : true)),
  );
}

export function page(frame: Frame, active: PageId | null, title: string, body: Raw): string {
  const b = frame.base;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · pipeseal</title>
<link rel="icon" href="${b}assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${b}assets/site.css">
<script type="module" src="${b}assets/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site">
<span class="brand">pipeseal</span>
<nav aria-label="Dashboard"><ul>${NAV.filter(([id]) => frame.pages?.has(id) ?? true).map(([id, name, path]) => html`<li><a href="${b}${path}"${id === active ? html` aria-current="page"` : ""}>${name}</a></li>`)}</ul></nav>
<span class="muted">${frame.label} · acting as <code>${frame.identity}</code></span>
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
<footer>Read from the keystore through the same library calls as the CLI. This page makes no request outside this server.</footer>
</body>
</html>
`.markup;
}
