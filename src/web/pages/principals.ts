/** Principals: who used which key, how much, first and last seen; a principal's page with its volume per key over time. */
import { dailyUseByVersion, usageByPrincipal, type UsageRow } from "../../audit/usage.js";
import { type Dashboard, USE_OPERATIONS, read } from "../context.js";
import { type Raw, html, link, num, time } from "../html.js";
import { legend, stackedChart } from "../svg.js";

const DAY = 86_400_000;

interface PrincipalSummary {
  principal: string;
  count: number;
  denied: number;
  first: string;
  last: string;
  keys: Map<string, number>;
}

function summarise(rows: readonly UsageRow[]): PrincipalSummary[] {
  const by = new Map<string, PrincipalSummary>();
  for (const r of rows) {
    const p = by.get(r.principal) ?? { principal: r.principal, count: 0, denied: 0, first: r.first, last: r.last, keys: new Map() };
    p.count += r.count;
    p.denied += r.denied;
    if (r.first < p.first) p.first = r.first;
    if (r.last > p.last) p.last = r.last;
    const k = r.key ?? "(no key)";
    p.keys.set(k, (p.keys.get(k) ?? 0) + r.count);
    by.set(r.principal, p);
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}

export function principalsPage(d: Dashboard): Raw {
  const b = d.frame.base;
  const rows = read(d, (db) => usageByPrincipal(db, {}, USE_OPERATIONS, 5000));
  const people = summarise(rows);
  if (people.length === 0) return html`<p>No principal has used a data key yet.</p>`;
  return html`<p class="muted">Data-key uses (${USE_OPERATIONS.join(", ")}) per principal, from the audit chain.</p>
<table><thead><tr><th scope="col">Principal</th><th class="num" scope="col">Uses</th><th class="num" scope="col">Refused</th><th scope="col">Keys</th><th scope="col">First seen</th><th scope="col">Last seen</th></tr></thead><tbody>
${people.map(
  (
    p,
  ) => html`<tr><td><a href="${link(`${b}principal`, { name: p.principal })}">${p.principal}</a></td><td class="num">${num(p.count)}</td><td class="num">${num(p.denied)}</td>
<td>${[...p.keys].map(([k, n]) => html`<a href="${link(`${b}audit`, { principal: p.principal, key: k })}">${k}</a> ${num(n)}× `)}</td><td>${time(p.first)}</td><td>${time(p.last)}</td></tr>`,
)}
</tbody></table>`;
}

export function principalPage(d: Dashboard, name: string): { title: string; body: Raw } {
  const b = d.frame.base;
  const since = d.now() - 30 * DAY;
  const rows = read(d, (db) => usageByPrincipal(db, { principal: name }, USE_OPERATIONS, 1000));
  const [p] = summarise(rows);
  const labels: string[] = [];
  for (let t = Math.floor(since / DAY) * DAY + DAY; t <= d.now(); t += DAY) labels.push(new Date(t).toISOString().slice(0, 10));
  const keys = p ? [...p.keys.keys()] : [];
  const perKey = read(d, (db) => keys.map((k) => ({ name: k, counts: dailyUseByVersion(db, { principal: name, key: k, sinceMs: since }, USE_OPERATIONS) })));
  const series = perKey.map((s) => ({ name: s.name, counts: labels.map((day) => s.counts.filter((x) => x.day === day).reduce((n, x) => n + x.count, 0)) }));
  const body =
    p === undefined
      ? html`<p>No data-key use by this principal. <a href="${link(`${b}audit`, { principal: name })}">Its audit records</a>.</p>`
      : html`<p>${num(p.count)} data-key uses (${num(p.denied)} refused) · first seen ${time(p.first)} · last seen ${time(p.last)} · <a href="${link(`${b}audit`, { principal: name })}">audit records</a></p>
<h2>Volume per key, last 30 days</h2>
${stackedChart(labels, series, `Uses by ${name} per day over 30 days, by key: ${num(series.reduce((n, x) => n + x.counts.reduce((a, c) => a + c, 0), 0))} in all`)}
${legend(series.map((s) => s.name))}
<h2>Keys and versions used</h2>
<table><thead><tr><th scope="col">Key</th><th scope="col">Version</th><th class="num" scope="col">Uses</th><th class="num" scope="col">Refused</th><th scope="col">First</th><th scope="col">Last</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.key === null ? "–" : html`<a href="${link(`${b}key`, { name: r.key })}">${r.key}</a>`}</td><td>${r.version === null ? "–" : `v${r.version}`}</td><td class="num">${num(r.count)}</td><td class="num">${num(r.denied)}</td><td>${time(r.first)}</td><td>${time(r.last)}</td></tr>`)}
</tbody></table>`;
  return { title: `Principal ${name}`, body };
}
