/** Overview: keys by state, rotation due, decrypts over 24 h and 30 d, open alerts, the chain's status, posture, certificates expiring soon. */
import { readAuditHead } from "../../audit/head.js";
import { isPipesealError } from "../../errors.js";
import { listCertificates } from "../../pki/ca/list.js";
import { type Dashboard, type PageRequest, read } from "../context.js";
import { type Raw, html, link, num, plural, time } from "../html.js";
import { barChart } from "../svg.js";
import { chainStatus } from "./chain-status.js";
import { postureVerdict } from "./posture.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The last `n` buckets up to now (the current one partial), labelled by ISO prefix, with their counts. */
export function recentBuckets(
  count: (starts: number[]) => number[],
  nowMs: number,
  n: number,
  stepMs: number,
  prefix: 10 | 13,
): { label: string; count: number }[] {
  const first = Math.floor(nowMs / stepMs) - n + 1;
  const starts = Array.from({ length: n }, (_, i) => (first + i) * stepMs);
  return count(starts).map((c, i) => ({ label: new Date(starts[i]).toISOString().slice(0, prefix), count: c }));
}

export function overviewPage(d: Dashboard, r: PageRequest): Raw {
  const now = d.now();
  const v = r.viewer;
  const keys = v.can("key.list") ? d.ks.listKeys().filter((k) => v.sees(k.name)) : [];
  const audit = v.can("audit.read"); // decrypt counts, the chain and alerts come from the audit
  const states = { enabled: 0, disabled: 0, destroyed: 0 };
  for (const k of keys) for (const x of k.versions) states[x.state]++;
  const due = keys.filter((k) => k.rotationDue);
  const soon = keys.filter((k) => !k.rotationDue && k.dueAt !== null && k.dueAt - now < 7 * DAY);
  const { days, hours, head } = read(d, (db) => {
    const days = recentBuckets((s) => d.useCounters.day.counts(db, s), now, 30, DAY, 10);
    const hours = recentBuckets((s) => d.useCounters.hour.counts(db, s), now, 24, HOUR, 13);
    return { days, hours, head: readAuditHead(db) };
  });
  const total24 = hours.reduce((n, b) => n + b.count, 0);
  const total30 = days.reduce((n, b) => n + b.count, 0);
  const alerts = audit ? (d.alerts?.list() ?? null) : null;
  const openAlerts = alerts?.filter((a) => a.alert.state === "open" && a.ack === null) ?? [];
  let certs: Raw;
  try {
    const expiring = listCertificates(d.ks, { now }).filter((c) => c.status === "valid" && c.notAfter.getTime() - now < 7 * DAY);
    certs =
      expiring.length === 0
        ? html`<p>No valid certificate expires within 7 days.</p>`
        : html`<ul>${expiring.map((c) => html`<li><code>${c.identity}</code> (serial <code>${c.serial}</code>) expires ${time(c.notAfter)}</li>`)}</ul>`;
  } catch (e) {
    if (!isPipesealError(e) || e.code !== "CA_NOT_INITIALIZED") throw e;
    certs = html`<p class="muted">No internal CA in this keystore.</p>`;
  }
  const latest = d.posture?.list()[0] ?? null;
  return html`
<div class="cards">
<section class="card" aria-labelledby="c-keys"><h2 id="c-keys">Keys</h2><div class="big">${num(keys.length)}</div>
<p>${plural(states.enabled, "version")} enabled, ${num(states.disabled)} disabled, ${num(states.destroyed)} destroyed.</p></section>
<section class="card" aria-labelledby="c-rot"><h2 id="c-rot">Rotation</h2><div class="big ${due.length ? "bad" : "ok"}">${num(due.length)} overdue</div>
<p>${num(soon.length)} due within 7 days.</p>${due.length ? html`<ul>${due.map((k) => html`<li><a href="${link(`${d.frame.base}key`, { name: k.name })}">${k.name}</a></li>`)}</ul>` : ""}</section>
${
  audit
    ? html`<section class="card" aria-labelledby="c-dec"><h2 id="c-dec">Decrypts</h2><div class="big">${num(total24)}</div><p>in the last 24 hours; ${num(total30)} in 30 days.</p></section>
<section class="card" aria-labelledby="c-al"><h2 id="c-al">Open alerts</h2>${alerts === null ? html`<p class="muted">No monitor data.</p>` : html`<div class="big ${openAlerts.length ? "bad" : "ok"}">${num(openAlerts.length)}</div><p><a href="${d.frame.base}alerts">All alerts</a></p>`}</section>`
    : ""
}
</div>
${
  audit
    ? html`<h2>Decrypts, last 24 hours</h2>
${barChart(hours, `Data-key uses per hour over the last 24 hours: ${num(total24)} in all`)}
<h2>Decrypts, last 30 days</h2>
${barChart(days, `Data-key uses per day over the last 30 days: ${num(total30)} in all`)}
<h2>Audit chain</h2>
${chainStatus(d, head?.seq ?? 0, r.csrf)}`
    : html`<p class="muted" id="no-audit">The audit (decrypts, the chain, alerts) is shown to identities the policy allows audit.read.</p>`
}
<h2>Posture</h2>
${latest === null ? html`<p class="muted">No posture report (start with <code>--posture DIR</code>, a folder of <code>pipeseal posture check --json</code> reports).</p>` : html`${postureVerdict(latest.report)} <p><a href="${d.frame.base}posture">The report</a>, generated ${time(latest.report.generatedAt)}.</p>`}
<h2>Certificates expiring within 7 days</h2>
${certs}
`;
}
