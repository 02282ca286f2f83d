/**
 * Alerts: the monitor's alerts (through the AlertSource seam), open and acknowledged, each
 * with its plain-words summary and its records, and, where the source can, a form to
 * acknowledge one with a note (audited as monitor.ack, the note in the record). The alerts come
 * from the audit, so the page needs audit.read.
 */
import type { Dashboard, PageRequest } from "../context.js";
import type { AlertView } from "../alerts.js";
import { type Raw, html, link, num, time } from "../html.js";

export function alertsPage(d: Dashboard, r: PageRequest, canAck: boolean): Raw {
  if (d.alerts === null)
    return html`<p class="notice" id="no-monitor">${d.frame.base === "/" ? html`No monitor data. Start <code>pipeseal ui --alerts FILE</code> with the JSON lines of <code>pipeseal monitor check --json</code>, or run <code>pipeseal monitor run</code> on this keystore.` : html`Alerts are shown by the local dashboard (<code>pipeseal ui</code> on the monitor's keystore): the monitor's alert ledger is not kept in the key service's store.`}</p>`;
  if (!r.viewer.can("audit.read"))
    return html`<p class="muted" id="no-audit">Alerts come from the audit, shown to identities the policy allows audit.read.</p>`;
  const b = d.frame.base;
  const all = d.alerts.list();
  const isOpen = (a: AlertView) => a.alert.state === "open" && a.ack === null;
  const open = all.filter(isOpen);
  const ackForm = (
    a: AlertView,
  ) => html`<form method="post" action="${b}alerts/ack" class="ack-form"><input type="hidden" name="csrf" value="${r.csrf}"><input type="hidden" name="id" value="${a.alert.id}">
<label>Note for <code>${a.alert.id}</code><input name="note" required maxlength="1000" autocomplete="off" placeholder="expected backfill"></label> <button type="submit">Acknowledge</button></form>`;
  const section = (id: string, title: string, list: readonly AlertView[]) =>
    html`<h2 id="${id}">${title} (${num(list.length)})</h2>${
      list.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table aria-labelledby="${id}"><thead><tr><th scope="col">Time</th><th scope="col">Severity</th><th scope="col">Detection</th><th scope="col">Principal</th><th scope="col">Key</th><th scope="col">Summary</th><th scope="col">Records</th></tr></thead><tbody>
${list.map((v) => {
  const { alert: a, ack } = v;
  return html`<tr data-alert="${a.id}"><td>${time(a.time)}</td><td><span class="pill ${a.severity}">${a.severity}</span></td><td>${a.detection}</td><td><a href="${link(`${b}principal`, { name: a.principal })}">${a.principal}</a></td><td>${a.key === null ? "–" : html`<a href="${link(`${b}key`, { name: a.key })}">${a.key}</a>`}</td>
<td>${a.summary}${ack ? html`<br><span class="ack">acknowledged by <code>${ack.by}</code> ${time(ack.at)}: ${ack.note}</span>` : ""}${canAck && isOpen(v) ? ackForm(v) : ""}</td>
<td>${a.seqs.slice(0, 8).map((s) => html`<a href="${link(`${b}audit/record`, { seq: s })}" aria-label="audit record ${s}">${s}</a> `)}${a.seqs.length + a.seqsOmitted > 8 ? html`… (${num(a.seqs.length + a.seqsOmitted)} in all)` : ""}${a.seqs.length > 0 ? html`<br><a href="${link(`${b}audit`, { principal: a.principal, ...(a.key === null ? {} : { key: a.key }) })}">its principal's records</a>` : ""}</td></tr>`;
})}
</tbody></table>`
    }`;
  return html`<p class="muted">From ${d.alerts.description}.</p>${section("open-alerts", "Open", open)}${section(
    "acked-alerts",
    "Acknowledged or closed",
    all.filter((a) => !isOpen(a)),
  )}`;
}
