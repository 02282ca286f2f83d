/** Alerts: the monitor's alerts (through the AlertSource seam), open and acknowledged, each with its records and summary. */
import type { Dashboard } from "../context.js";
import { type Raw, html, link, num, time } from "../html.js";

export function alertsPage(d: Dashboard): Raw {
  if (d.alerts === null) return html`<p class="notice" id="no-monitor">No monitor data. Start <code>pipeseal ui --alerts FILE</code> with the JSON lines of <code>pipeseal monitor check --json</code>.</p>`;
  const b = d.frame.base;
  const all = d.alerts.list();
  const open = all.filter((a) => a.alert.state === "open" && a.ack === null);
  const section = (title: string, list: typeof all) => html`<h2>${title} (${num(list.length)})</h2>${list.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Time</th><th scope="col">Severity</th><th scope="col">Detection</th><th scope="col">Principal</th><th scope="col">Key</th><th scope="col">Summary</th><th scope="col">Records</th></tr></thead><tbody>
${list.map(({ alert: a, ack }) => html`<tr><td>${time(a.time)}</td><td><span class="pill ${a.severity}">${a.severity}</span></td><td>${a.detection}</td><td><a href="${link(`${b}principal`, { name: a.principal })}">${a.principal}</a></td><td>${a.key === null ? "–" : html`<a href="${link(`${b}key`, { name: a.key })}">${a.key}</a>`}</td>
<td>${a.summary}${ack ? html`<br><span class="muted">acknowledged by ${ack.by} ${time(ack.at)}: ${ack.note}</span>` : ""}</td>
<td>${a.seqs.slice(0, 8).map((s) => html`<a href="${link(`${b}audit/record`, { seq: s })}">${s}</a> `)}${a.seqs.length + a.seqsOmitted > 8 ? html`… (${num(a.seqs.length + a.seqsOmitted)} in all)` : ""}</td></tr>`)}
</tbody></table>`}`;
  return html`<p class="muted">From ${d.alerts.description}.</p>${section("Open", open)}${section("Acknowledged or closed", all.filter((a) => !open.includes(a)))}`;
}
