/**
 * Observations to posture findings. Pure. The TLS probe's own assessment (src/pki/probe/findings.ts)
 * is reused: each probe finding id maps to one transit check, and a connection gets at most one
 * finding per check (the probe's reasons joined, the worst severity), so fingerprints stay unique.
 */
import type { Finding as ProbeFinding, ProbeReport } from "../../../pki/probe/index.js";
import { SENSITIVE } from "../../finding.js";
import type { ConnectionSpec, Finding, Severity } from "../../types.js";
import * as ID from "./definitions.js";
import { connectionFinding, worst, type Evidence } from "./finding.js";
import type { Observation } from "./observe.js";

const PROBE_TO_CHECK: Readonly<Record<string, string>> = {
  "plaintext-http": ID.TRANSIT_PLAINTEXT,
  "tls-legacy-accepted": ID.TRANSIT_TLS_VERSION,
  "tls-no-forward-secrecy": ID.TRANSIT_CIPHER,
  "cert-expired": ID.TRANSIT_CERT,
  "cert-not-yet-valid": ID.TRANSIT_CERT,
  "cert-name-mismatch": ID.TRANSIT_CERT,
  "cert-untrusted": ID.TRANSIT_CERT,
  "cert-self-signed": ID.TRANSIT_CERT,
  "cert-weak-key": ID.TRANSIT_CERT,
  "cert-weak-signature": ID.TRANSIT_CERT,
  "cert-long-lived": ID.TRANSIT_CERT,
  "cert-expires-soon": ID.TRANSIT_CERT,
  "cert-renewal-overdue": ID.TRANSIT_CERT,
  "mtls-failed": ID.TRANSIT_MTLS,
  // info-level probe findings (tls-version-untested, tls13-not-supported, cert-validation-unknown,
  // client-cert-*) stay evidence; client-cert-* becomes TRANSIT-MTLS only when the map says mTLS.
};

/** Broken or export-grade suites by OpenSSL name (RFC 7465 RC4, RFC 8996 era 3DES/DES, NULL, anonymous). */
const BROKEN_CIPHER = /RC4|(^|-)(DES|3DES)(-|$)|DES-CBC3|NULL|EXP|ADH|AECDH|anon|MD5/i;

function plaintextSeverity(conn: ConnectionSpec): Severity {
  return SENSITIVE.has(conn.classification) ? "critical" : "high";
}

function tlsEvidence(r: ProbeReport): Record<string, string | number | boolean | null> {
  const leaf = r.chain[0];
  return {
    address: `${r.target.address}:${r.target.port}`,
    protocol: r.handshake.protocol ?? r.clientAuth.withCertificate?.protocol ?? null,
    cipher: r.handshake.cipher ?? r.clientAuth.withCertificate?.cipher ?? null,
    versionsAccepted:
      r.protocols
        .filter((p) => p.result === "accepted")
        .map((p) => p.version)
        .join(", ") || null,
    clientCertRequired: r.clientAuth.required,
    ...(leaf
      ? {
          certSubject: leaf.subject,
          certIssuer: leaf.issuer,
          notAfter: leaf.notAfter,
          daysLeft: leaf.daysLeft,
          lifetimeDays: Math.round((leaf.lifetimeHours / 24) * 10) / 10,
        }
      : {}),
    trusted: r.validation.trusted,
    trustStore: r.validation.trustStore,
    nameChecked: r.validation.name.checked,
    nameMatches: r.validation.name.matches,
  };
}

/** Weak suites negotiated: the default handshake, and each version the server accepted when offered every suite. */
function brokenCiphers(r: ProbeReport): ProbeFinding[] {
  const seen = [
    ...(r.handshake.cipher ? [{ version: r.handshake.protocol ?? "default", cipher: r.handshake.cipher }] : []),
    ...(r.clientAuth.withCertificate?.cipher
      ? [{ version: r.clientAuth.withCertificate.protocol ?? "default", cipher: r.clientAuth.withCertificate.cipher }]
      : []),
    ...r.protocols.flatMap((p) => (p.result === "accepted" && p.cipher ? [{ version: p.version, cipher: p.cipher }] : [])),
  ];
  return seen
    .filter((s) => BROKEN_CIPHER.test(s.cipher))
    .map((s) => ({ id: "cipher-broken", severity: "high" as const, message: `the server negotiates ${s.cipher} under ${s.version}` }));
}

function mtlsFindings(conn: ConnectionSpec, r: ProbeReport): { severity: Severity; message: string }[] {
  if (!conn.mtls) return [];
  const auth = r.clientAuth;
  if (auth.required === false)
    return [{ severity: "high", message: `the map says mTLS, but the server completed a handshake without a client certificate (${auth.evidence})` }];
  if (auth.required === null)
    return [{ severity: "low", message: `the map says mTLS, but whether a client certificate is required could not be told: ${auth.evidence}` }];
  return [];
}

function fromReport(conn: ConnectionSpec, r: ProbeReport): Finding[] {
  const grouped = new Map<string, { severity: Severity; message: string }[]>();
  const add = (checkId: string, item: { severity: Severity; message: string }) => grouped.set(checkId, [...(grouped.get(checkId) ?? []), item]);
  for (const f of r.findings) {
    const checkId = PROBE_TO_CHECK[f.id];
    if (checkId) add(checkId, checkId === ID.TRANSIT_PLAINTEXT ? { severity: plaintextSeverity(conn), message: f.message } : f);
  }
  for (const f of brokenCiphers(r)) add(ID.TRANSIT_CIPHER, f);
  for (const f of mtlsFindings(conn, r)) add(ID.TRANSIT_MTLS, f);
  const base = tlsEvidence(r);
  return [...grouped].map(([checkId, items]) => {
    const reasons = [...new Set(items.map((i) => i.message))];
    const extra: Evidence =
      checkId === ID.TRANSIT_PLAINTEXT
        ? { httpStatusLine: r.plaintext.httpStatusLine }
        : checkId === ID.TRANSIT_MTLS
          ? { mapSaysMtls: conn.mtls, clientAuth: r.clientAuth.evidence }
          : {};
    return connectionFinding(conn, checkId, worst(items.map((i) => i.severity)), reasons.join("; "), { ...base, ...extra, reasons: reasons.length });
  });
}

/** The findings for one connection, from what was observed of it. */
export function assessConnection(conn: ConnectionSpec, o: Observation): Finding[] {
  if (o.kind === "tls") return fromReport(conn, o.report);
  const plain = {
    scheme: o.kind === "http" ? "http" : new URL(conn.url).protocol.replace(/:$/, ""),
    connected: o.reach.connected,
    httpStatusLine: o.reach.statusLine,
  };
  const out: Finding[] = [];
  if (o.kind === "http") {
    const answered = o.reach.statusLine ? `; it answered ${o.reach.statusLine}` : "";
    out.push(
      connectionFinding(
        conn,
        ID.TRANSIT_PLAINTEXT,
        plaintextSeverity(conn),
        `the map sends ${conn.classification} data over plaintext http://${answered}`,
        plain,
      ),
    );
  } else if (o.reach.statusLine) {
    out.push(
      connectionFinding(
        conn,
        ID.TRANSIT_PLAINTEXT,
        plaintextSeverity(conn),
        `the endpoint does not speak TLS: it answers plaintext HTTP (${o.reach.statusLine})`,
        plain,
      ),
    );
  }
  if (!o.reach.connected || (o.kind === "no-tls" && !o.reach.statusLine)) {
    const why = o.kind === "no-tls" ? o.error : `nothing answers: ${o.reach.error ?? "unknown"}`;
    out.push(connectionFinding(conn, ID.TRANSIT_UNREACHABLE, "medium", `the endpoint could not be probed: ${why}`, { ...plain, error: o.reach.error ?? why }));
  }
  return out;
}
