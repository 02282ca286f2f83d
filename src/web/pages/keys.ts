/** Keys: every key the viewer may see, with its versions, states, primary and rotation status. */
import type { Dashboard, PageRequest } from "../context.js";
import { type Raw, html, link, num, time } from "../html.js";

export function keysPage(d: Dashboard, r: PageRequest): Raw {
  const keys = d.ks.listKeys().filter((k) => r.viewer.sees(k.name));
  if (keys.length === 0) return html`<p>No keys yet: <code>pipeseal key create NAME</code>.</p>`;
  return html`<table><caption class="muted">${num(keys.length)} key(s)</caption><thead><tr><th scope="col">Key</th><th scope="col">Primary</th><th scope="col">Versions</th><th scope="col">Min decrypt</th><th scope="col">Rotation</th><th scope="col">Created</th></tr></thead><tbody>
${keys.map(
  (k) => html`<tr><td><a href="${link(`${d.frame.base}key`, { name: k.name })}">${k.name}</a></td><td>v${k.primaryVersion}</td>
<td>${k.versions.map((v) => html`<span class="pill ${v.state}">v${v.version} ${v.state}</span> `)}</td><td>v${k.minDecryptVersion}</td>
<td>${k.rotationDue ? html`<strong class="bad">due since ${time(k.dueAt)}</strong>` : k.dueAt === null ? html`<span class="muted">no period</span>` : html`next ${time(k.dueAt)}`}</td><td>${time(k.createdAt)}</td></tr>`,
)}
</tbody></table>`;
}
