/**
 * Audit: the records with filters, free text, keyset paging on seq (a page costs its own
 * records, however long the log), links to keys and principals, the filtered timeline (an
 * SVG image loaded beside the page, so the page itself never waits for a count of millions),
 * exports of the filtered set, and "verify chain".
 */
import { queryAuditPage, auditRecordAt } from "../../audit/query.js";
import { AUDIT_OUTCOMES } from "../../audit/filter.js";
import { readAuditHead } from "../../audit/head.js";
import type { AuditRecord } from "../../audit/types.js";
import { UsageError } from "../../errors.js";
import { type Dashboard, type PageRequest, read } from "../context.js";
import { cursor, filterFromQuery, filterParams, withFilter } from "../filter-params.js";
import { type Raw, html, link, num, time } from "../html.js";
import { chainStatus } from "./chain-status.js";

const OPERATIONS = [
  "unwrap",
  "decrypt",
  "range-read",
  "rewrap",
  "init",
  "key.create",
  "key.rotate",
  "key.disable",
  "key.enable",
  "key.destroy",
  "key.set-min-version",
  "audit.export",
  "ca.issue",
  "ca.revoke",
];

function contextText(r: AuditRecord): string {
  return r.context ?? "";
}

function recordRow(d: Dashboard, r: AuditRecord): Raw {
  const b = d.frame.base;
  return html`<tr><td class="num"><a href="${link(`${b}audit/record`, { seq: r.seq })}">${r.seq}</a></td><td>${time(r.time)}</td>
<td><a href="${link(`${b}principal`, { name: r.principal })}">${r.principal}</a></td><td>${r.operation}</td>
<td>${r.keyName === null ? "–" : html`<a href="${link(`${b}key`, { name: r.keyName })}">${r.keyName}</a>${r.keyVersion === null ? "" : ` v${r.keyVersion}`}`}</td>
<td><span class="pill ${r.outcome}">${r.outcome}</span>${r.errorCode ? html` <code>${r.errorCode}</code>` : ""}</td>
<td><code>${r.objectPath ?? ""}</code></td><td><code>${contextText(r)}</code></td></tr>`;
}

function filterForm(d: Dashboard, r: PageRequest): Raw {
  const v = (name: string) => {
    const x = r.query[name];
    return (Array.isArray(x) ? x[0] : x) ?? "";
  };
  const ctx = filterParams(r.query).find(([k]) => k === "ctx")?.[1] ?? ""; // more pairs: repeat ctx= in the URL
  const input = (name: string, label: string, placeholder = "") =>
    html`<label>${label}<input name="${name}" value="${v(name)}" placeholder="${placeholder}"></label>`;
  return html`<form class="filters" method="get" action="${d.frame.base}audit" role="search" aria-label="Filter audit records">
${input("q", "Search any field", "text")}${input("principal", "Principal")}${input("key", "Key")}${input("version", "Version")}
<label>Operation<input name="operation" list="ops" value="${v("operation")}"><datalist id="ops">${OPERATIONS.map((o) => html`<option value="${o}"></option>`)}</datalist></label>
<label>Outcome<select name="outcome"><option value="">any</option>${AUDIT_OUTCOMES.map((o) => html`<option value="${o}"${v("outcome") === o ? html` selected` : ""}>${o}</option>`)}</select></label>
${input("object", "Object contains")}<label>Context key=value<input name="ctx" value="${ctx}" placeholder="dataset=users"></label>
${input("since", "Since", "24h or 2026-03-01")}${input("until", "Until", "2026-03-02T00:00")}
<button type="submit">Apply filters</button><a href="${d.frame.base}audit">Clear</a>
</form>`;
}

export function auditPage(d: Dashboard, r: PageRequest): Raw {
  const b = d.frame.base;
  const q = r.query;
  const filter = filterFromQuery(q, d.now());
  const before = cursor(q, "before");
  const after = cursor(q, "after");
  if (before !== undefined && after !== undefined) throw new UsageError("INVALID_ARGUMENT", "give before or after, not both");
  const { page, head } = read(d, (db) => ({
    page: queryAuditPage(db, filter, { limit: 50, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) }),
    head: readAuditHead(db),
  }));
  const pager = html`<nav class="pager" aria-label="Pages">${page.newer !== null ? html`<a href="${withFilter(`${b}audit`, q, { after: page.newer, before: null })}" rel="prev">← Newer</a>` : ""}${page.older !== null ? html`<a href="${withFilter(`${b}audit`, q, { before: page.older, after: null })}" rel="next">Older →</a>` : ""}</nav>`;
  return html`${filterForm(d, r)}
<figure><img class="chart" src="${withFilter(`${b}audit/timeline.svg`, q)}" width="720" height="160" alt="Timeline of the filtered records: counts per time bucket"><figcaption class="muted">Timeline of the filtered set.</figcaption></figure>
<p>Export the filtered set: <a href="${withFilter(`${b}audit/export.jsonl`, q)}" download>JSON lines (pipeseal.audit.v1)</a> · <a href="${withFilter(`${b}audit/export.csv`, q)}" download>CSV</a> <span class="muted">(each export is itself an audit record)</span></p>
${pager}
${
  page.records.length === 0
    ? html`<p id="no-records">No audit record matches.</p>`
    : html`<table id="records"><caption class="muted">Newest first, ${num(page.records.length)} on this page (head: record ${num(head?.seq ?? 0)})</caption><thead><tr><th class="num" scope="col">Seq</th><th scope="col">Time</th><th scope="col">Principal</th><th scope="col">Operation</th><th scope="col">Key</th><th scope="col">Outcome</th><th scope="col">Object</th><th scope="col">Context</th></tr></thead><tbody>
${page.records.map((x) => recordRow(d, x))}
</tbody></table>`
}
${pager}
<h2>Chain</h2>
${chainStatus(d, head?.seq ?? 0, r.csrf)}`;
}

export function recordPage(d: Dashboard, r: PageRequest): { title: string; body: Raw } {
  const seq = cursor(r.query, "seq");
  if (seq === undefined) throw new UsageError("INVALID_ARGUMENT", "seq is required");
  const x = read(d, (db) => auditRecordAt(db, seq));
  if (x === null) return { title: `Record ${seq}`, body: html`<p>No record ${seq}.</p>` };
  const b = d.frame.base;
  const rows: [string, Raw | string][] = [
    ["Time", time(x.time)],
    ["Principal", html`<a href="${link(`${b}principal`, { name: x.principal })}">${x.principal}</a>`],
    ["Operation", x.operation],
    [
      "Key",
      x.keyName === null ? "–" : html`<a href="${link(`${b}key`, { name: x.keyName })}">${x.keyName}</a>${x.keyVersion === null ? "" : ` v${x.keyVersion}`}`,
    ],
    ["Outcome", `${x.outcome}${x.errorCode ? ` (${x.errorCode})` : ""}`],
    ["Object", html`<code>${x.objectPath ?? "–"}</code>`],
    ["Header hash", html`<code>${x.headerHash ?? "–"}</code>`],
    ["Context", html`<code>${x.context ?? "–"}</code>`],
    ["Chain MAC", html`<code>${x.mac}</code>`],
  ];
  return {
    title: `Audit record ${num(x.seq)}`,
    body: html`<table><tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>
<p><a href="${link(`${b}audit`, { before: x.seq + 1 })}">This record in the log</a></p>`,
  };
}
