/** The audit chain's status and the "verify chain" action (a form: works without script). */
import type { Dashboard } from "../context.js";
import { type Raw, html, num, time } from "../html.js";

export function chainStatus(d: Dashboard, headSeq: number, csrf?: string): Raw {
  const v = d.lastVerify;
  const status =
    v === null
      ? html`<p class="notice">Not verified by this server yet. The chain's head is record ${num(headSeq)}.</p>`
      : v.result.ok
        ? html`<p class="notice ok" id="chain-status"><strong class="ok">Verified</strong> up to record ${num(v.result.records)} at ${time(v.at)}.</p>`
        : html`<div class="notice bad" id="chain-status"><p><strong class="bad">Broken</strong> (checked ${time(v.at)}): ${num(v.result.problems.length)} problem(s).</p><ul>${v.result.problems.slice(0, 20).map((p) => html`<li>record ${num(p.seq)}: ${p.kind}${p.detail ? html` — ${p.detail}` : ""}</li>`)}</ul></div>`;
  return html`${status}<form method="post" action="${d.frame.base}audit/verify"><input type="hidden" name="csrf" value="${csrf ?? ""}"><button type="submit">Verify chain</button> <span class="muted">reads every record; it takes about a second per million.</span></form>`;
}
