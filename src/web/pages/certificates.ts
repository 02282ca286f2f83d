/** Certificates: the internal CA, its issued certificates with expiry and status, and revocations. */
import { isPipesealError } from "../../errors.js";
import { caInfo, listCertificates } from "../../pki/ca/list.js";
import type { Dashboard } from "../context.js";
import { type Raw, html, num, time } from "../html.js";

const DAY = 86_400_000;

export function certificatesPage(d: Dashboard): Raw {
  let ca;
  try {
    ca = caInfo(d.ks);
  } catch (e) {
    if (isPipesealError(e) && e.code === "CA_NOT_INITIALIZED") return html`<p>No internal CA in this keystore (<code>pipeseal ca init</code>).</p>`;
    throw e;
  }
  const now = d.now();
  const certs = listCertificates(d.ks, { now }).reverse();
  const revoked = certs.filter((c) => c.status === "revoked");
  const expiring = certs.filter((c) => c.status === "valid" && c.notAfter.getTime() - now < 7 * DAY);
  return html`<table><tbody>
<tr><th scope="row">CA</th><td>${ca.name} · trust domain <code>${ca.trustDomain}</code> · sealed under key <code>${ca.keyName}</code></td></tr>
<tr><th scope="row">Root</th><td>serial <code>${ca.rootSerial}</code>, expires ${time(ca.rootNotAfter)}</td></tr>
<tr><th scope="row">Issuing CA</th><td>serial <code>${ca.issuingSerial}</code>, expires ${time(ca.issuingNotAfter)}</td></tr>
<tr><th scope="row">Maximum lifetime</th><td>${num(Math.round(ca.maxTtlSeconds / 3600))} h</td></tr>
</tbody></table>
<p>${num(certs.length)} issued · ${num(certs.filter((c) => c.status === "valid").length)} valid · <strong class="${expiring.length ? "warn" : ""}">${num(expiring.length)} expiring within 7 days</strong> · ${num(revoked.length)} revoked</p>
<h2>Issued certificates</h2>
<table><thead><tr><th scope="col">Identity</th><th scope="col">Serial</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Not after</th><th scope="col">Issued</th><th scope="col">Names</th></tr></thead><tbody>
${certs.map((c) => html`<tr><td><code>${c.identity}</code></td><td><code>${c.serial}</code></td><td>${c.kind}</td><td><span class="pill ${c.status}">${c.status}</span>${c.replacedBy ? html` by <code>${c.replacedBy}</code>` : ""}</td><td>${time(c.notAfter)}</td><td>${time(c.issuedAt)}</td><td>${[...c.dns, ...c.ip].join(", ")}</td></tr>`)}
</tbody></table>
<h2>Revocations</h2>
${revoked.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Identity</th><th scope="col">Serial</th><th scope="col">Revoked</th><th scope="col">Reason</th></tr></thead><tbody>${revoked.map((c) => html`<tr><td><code>${c.identity}</code></td><td><code>${c.serial}</code></td><td>${time(c.revokedAt)}</td><td>${c.revocationReason ?? "–"}</td></tr>`)}</tbody></table>`}`;
}
