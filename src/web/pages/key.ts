/**
 * One key: its versions, which principals and objects used each version (from the audit),
 * uses per day by version (old versions draining after a rotation), and the admin actions,
 * each behind a typed confirmation of the key name (like `key destroy` on a terminal). The
 * audit-derived parts need audit.read; each admin form is shown only when the viewer may do
 * that operation on this key (the server decides again when it is submitted). No form here
 * ever releases plaintext: each names its policy operation in data-op, and none is one of the
 * plaintext-bearing operations.
 */
import { dailyUseByVersion, objectsByVersion, usageByPrincipal } from "../../audit/usage.js";
import type { KeyInfo } from "../../keys/key-info.js";
import { ADMIN_ACTION_OPERATION } from "../access.js";
import { type Dashboard, type PageRequest, USE_OPERATIONS, read } from "../context.js";
import { type Raw, html, link, num, time } from "../html.js";
import { legend, stackedChart } from "../svg.js";

const DAY = 86_400_000;

export function keyPage(d: Dashboard, r: PageRequest, name: string): { title: string; body: Raw } {
  const k = d.ks.showKey(name);
  const b = d.frame.base;
  const since = d.now() - 60 * DAY;
  const audit = r.viewer.can("audit.read");
  const { users, objects, daily } = !audit
    ? { users: [], objects: [], daily: [] }
    : read(d, (db) => ({
        users: usageByPrincipal(db, { key: name }, USE_OPERATIONS, 200),
        objects: objectsByVersion(db, { key: name }, USE_OPERATIONS, 5),
        daily: dailyUseByVersion(db, { key: name, sinceMs: since }, USE_OPERATIONS),
      }));
  const days: string[] = [];
  for (let t = Math.floor(since / DAY) * DAY + DAY; t <= d.now(); t += DAY) days.push(new Date(t).toISOString().slice(0, 10));
  const versions = [...new Set(daily.map((x) => x.version))].sort((a, b2) => (a ?? 0) - (b2 ?? 0));
  const series = versions.map((v) => ({
    name: v === null ? "no version" : `v${v}`,
    counts: days.map((day) => daily.find((x) => x.day === day && x.version === v)?.count ?? 0),
  }));
  const body = html`
<p>Primary <strong>v${k.primaryVersion}</strong> · minimum decryption version v${k.minDecryptVersion} · ${k.rotateEverySeconds === null ? "no rotation period" : k.rotationDue ? html`<strong class="bad">rotation due since ${time(k.dueAt)}</strong>` : html`next rotation ${time(k.dueAt)}`}${audit ? html` · <a href="${link(`${b}audit`, { key: name })}">audit records of this key</a>` : ""}</p>
<h2>Versions</h2>
<table><thead><tr><th scope="col">Version</th><th scope="col">State</th><th scope="col">Created</th><th class="num" scope="col">Wraps</th><th class="num" scope="col">Uses</th><th scope="col">Principals</th><th scope="col">Objects (most used)</th></tr></thead><tbody>
${[...k.versions].reverse().map((v) => {
  const mine = users.filter((u) => u.version === v.version);
  const uses = mine.reduce((n, u) => n + u.count, 0);
  return html`<tr><td>v${v.version}${v.version === k.primaryVersion ? html` <span class="pill">primary</span>` : ""}</td><td><span class="pill ${v.state}">${v.state}</span>${v.destroyedAt ? html` ${time(v.destroyedAt)}` : ""}</td><td>${time(v.createdAt)}</td><td class="num">${num(v.wrapCount)}</td>
<td class="num">${audit ? html`<a href="${link(`${b}audit`, { key: name, version: v.version })}">${num(uses)}</a>` : "–"}</td>
<td>${mine.length === 0 ? html`<span class="muted">none</span>` : html`<ul class="compact">${mine.slice(0, 8).map((u) => html`<li><a href="${link(`${b}principal`, { name: u.principal })}">${u.principal}</a> ${num(u.count)}× last ${time(u.last)}</li>`)}</ul>`}</td>
<td>${html`<ul class="compact">${objects.filter((o) => o.version === v.version).map((o) => html`<li><code>${o.object}</code> ${num(o.count)}×</li>`)}</ul>`}</td></tr>`;
})}
</tbody></table>
${
  audit
    ? html`<h2>Uses per day by version (60 days)</h2>
${stackedChart(days, series, `Uses of ${name} per day over 60 days, by version`)}
${legend(series.map((s) => s.name))}`
    : html`<p class="muted" id="no-audit">Who used each version comes from the audit, shown to identities the policy allows audit.read.</p>`
}
${adminActions(d, r, k)}`;
  return { title: `Key ${name}`, body };
}

/** The admin forms. Every one asks for the key name typed out; the server checks it again (the script only enables the button). */
function adminActions(d: Dashboard, r: PageRequest, k: KeyInfo): Raw {
  const b = d.frame.base;
  const versions = k.versions.filter((v) => v.state !== "destroyed");
  const form = (action: keyof typeof ADMIN_ACTION_OPERATION, label: string, what: string, extra: Raw, danger = false) =>
    !r.viewer.can(ADMIN_ACTION_OPERATION[action], k.name)
      ? html``
      : html`
<details class="action"><summary>${label}</summary><p>${what}</p>
<form method="post" action="${b}key/action" class="confirm-form" data-op="${ADMIN_ACTION_OPERATION[action]}">
<input type="hidden" name="csrf" value="${r.csrf}"><input type="hidden" name="name" value="${k.name}"><input type="hidden" name="action" value="${action}">
${extra}
<label>Type the key name <code>${k.name}</code> to confirm<input name="confirm" autocomplete="off" spellcheck="false" required data-expect="${k.name}"></label>
<button type="submit"${danger ? html` class="danger"` : ""}>${label}</button>
</form></details>`;
  const versionSelect = (list: readonly { version: number }[], id: string) =>
    html`<label for="${id}">Version<select id="${id}" name="version">${list.map((v) => html`<option value="${v.version}">v${v.version}</option>`)}</select></label>`;
  if (!Object.values(ADMIN_ACTION_OPERATION).some((op) => r.viewer.can(op, k.name)))
    return html`<p class="muted" id="no-admin">${d.readOnly ? "Read-only dashboard: no admin actions." : "No admin action on this key is allowed to this identity."}</p>`;
  return html`<h2>Admin actions</h2><p class="muted">Each action is recorded in the audit chain as done by <code>${r.viewer.identity}</code>.</p>
${form("rotate", "Rotate", `Adds version ${k.primaryVersion + 1} as primary; older versions still decrypt.`, html``)}
${form(
  "disable",
  "Disable a version",
  "Stops a version from wrapping or unwrapping (reversible). The primary cannot be disabled: rotate first.",
  versionSelect(
    versions.filter((v) => v.version !== k.primaryVersion),
    "v-disable",
  ),
)}
${form(
  "enable",
  "Enable a version",
  "Re-enables a disabled version.",
  versionSelect(
    k.versions.filter((v) => v.state === "disabled"),
    "v-enable",
  ),
)}
${form(
  "set-min-version",
  "Set minimum decryption version",
  "Unwraps under lower versions are refused.",
  versionSelect(
    k.versions.filter((v) => v.version <= k.primaryVersion),
    "v-min",
  ),
)}
${form(
  "destroy",
  "Destroy a version",
  "Wipes the version's key material: everything sealed under it becomes unreadable, for ever (crypto-shredding).",
  versionSelect(
    versions.filter((v) => v.version !== k.primaryVersion),
    "v-destroy",
  ),
  true,
)}`;
}
