/** Turns observations into findings with a severity. Pure: the report in, findings out. */
import type { CertificateInfo, Finding, ProbeReport } from "./types.js";

export type Observations = Omit<ProbeReport, "findings">;

const LONG_LIVED_DAYS = 90;
const EXPIRY_WARNING_DAYS = 7;

function leafFindings(leaf: CertificateInfo, now: number): Finding[] {
  const out: Finding[] = [];
  if (leaf.secondsLeft < 0)
    out.push({ id: "cert-expired", severity: "high", message: `the server certificate expired ${-leaf.daysLeft} day(s) ago (${leaf.notAfter})` });
  if (Date.parse(leaf.notBefore) > now)
    out.push({ id: "cert-not-yet-valid", severity: "high", message: `the server certificate is not valid before ${leaf.notBefore}` });
  if (leaf.secondsLeft >= 0) {
    const lifetime = leaf.lifetimeHours * 3600;
    // pipeseal renews at 2/3 of the lifetime; a short-lived certificate past that point was not renewed.
    if (leaf.shortLived && lifetime > 0 && leaf.secondsLeft < lifetime / 3) {
      out.push({
        id: "cert-renewal-overdue",
        severity: "medium",
        message: `the short-lived server certificate has ${Math.round(leaf.secondsLeft / 60)} min left of ${leaf.lifetimeHours} h; renewal (at 2/3 of its lifetime) has not happened`,
      });
    } else if (!leaf.shortLived && leaf.daysLeft < EXPIRY_WARNING_DAYS) {
      out.push({ id: "cert-expires-soon", severity: "medium", message: `the server certificate expires in ${leaf.daysLeft} day(s) (${leaf.notAfter})` });
    }
  }
  if (leaf.lifetimeHours > LONG_LIVED_DAYS * 24)
    out.push({
      id: "cert-long-lived",
      severity: "low",
      message: `the server certificate lives ${Math.round(leaf.lifetimeHours / 24)} days (over ${LONG_LIVED_DAYS}); prefer short-lived certificates that renew automatically`,
    });
  if (leaf.selfSigned)
    out.push({ id: "cert-self-signed", severity: "medium", message: "the server certificate is self-signed: clients can only trust it by pinning it" });
  const { type, bits } = leaf.key;
  if (bits !== null && (type === "rsa" || type === "rsa-pss" || type === "dsa" ? bits < 2048 : type === "ec" && bits < 256)) {
    out.push({ id: "cert-weak-key", severity: "high", message: `the server key is ${type} ${bits} bits` });
  }
  if (/SHA-1\b|SHA1|MD5/i.test(leaf.signatureAlgorithm))
    out.push({ id: "cert-weak-signature", severity: "high", message: `the server certificate is signed with ${leaf.signatureAlgorithm}` });
  return out;
}

/** Findings for a report. `expectMtls` raises "no client certificate required" from info to medium. */
export function assessFindings(r: Observations, expectMtls = false): Finding[] {
  const out: Finding[] = [];
  for (const p of r.protocols) {
    if ((p.version === "TLSv1" || p.version === "TLSv1.1") && p.result === "accepted") {
      out.push({ id: "tls-legacy-accepted", severity: "high", message: `the server accepts ${p.version} (deprecated by RFC 8996)` });
    }
    if (p.result === "not-testable" || p.result === "no-answer")
      out.push({ id: "tls-version-untested", severity: "info", message: `${p.version} could not be tested from this client: ${p.detail ?? p.result}` });
  }
  if (r.protocols.find((p) => p.version === "TLSv1.3")?.result === "refused")
    out.push({ id: "tls13-not-supported", severity: "low", message: "the server does not accept TLS 1.3" });
  // A server that requires client certificates completes only the handshake made with one.
  const completed = r.handshake.ok
    ? { ...r.handshake, which: "default" }
    : r.clientAuth.withCertificate?.ok
      ? { ...r.clientAuth.withCertificate, which: "client-certificate" }
      : null;
  if (completed && completed.protocol !== "TLSv1.3" && completed.cipher && !/^(ECDHE|DHE)-/.test(completed.cipher)) {
    out.push({
      id: "tls-no-forward-secrecy",
      severity: "medium",
      message: `the ${completed.which} handshake chose ${completed.cipher}, without forward secrecy`,
    });
  }
  const leaf = r.chain[0];
  if (leaf) out.push(...leafFindings(leaf, Date.parse(r.probedAt)));
  if (r.validation.trusted === false)
    out.push({
      id: "cert-untrusted",
      severity: "high",
      message: `the chain does not validate against ${r.validation.trustStore}: ${r.validation.error ?? "unknown reason"}`,
    });
  if (r.validation.trusted === null)
    out.push({
      id: "cert-validation-unknown",
      severity: "info",
      message: `the chain could not be validated: ${r.validation.error ?? "no handshake completed"}`,
    });
  if (!r.validation.name.matches)
    out.push({
      id: "cert-name-mismatch",
      severity: "high",
      message: `the certificate does not match ${r.validation.name.checked}: ${r.validation.name.error ?? ""}`.trim(),
    });
  const auth = r.clientAuth;
  if (auth.required === false) {
    out.push({
      id: "client-cert-not-required",
      severity: expectMtls ? "medium" : "info",
      message: `the server does not require a client certificate (${auth.evidence})`,
    });
  } else if (auth.required === null) {
    out.push({ id: "client-cert-unknown", severity: "info", message: `whether a client certificate is required could not be told: ${auth.evidence}` });
  }
  if (auth.withCertificate && !auth.withCertificate.ok)
    out.push({ id: "mtls-failed", severity: "high", message: `mTLS with the given client certificate failed: ${auth.withCertificate.error ?? "unknown"}` });
  if (r.plaintext.httpStatusLine)
    out.push({ id: "plaintext-http", severity: "high", message: `the port also answers plaintext HTTP (${r.plaintext.httpStatusLine})` });
  return out;
}
