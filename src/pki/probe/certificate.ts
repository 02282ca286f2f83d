/** Describes one certificate as a probe sees it: names, validity, key and signature. */
import { X509Certificate } from "node:crypto";
import { x509 } from "../x509.js";
import type { CertificateInfo } from "./types.js";

const DAY = 86_400_000;
/** pipeseal's own certificates live 1 h (clients) to 24 h (servers); a week is the "short-lived" line. */
export const SHORT_LIVED_HOURS = 7 * 24;
const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };

function sans(cert: x509.X509Certificate): CertificateInfo["sans"] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  if (!ext) return [];
  return ext.names.toJSON().map(({ type, value }) => {
    if (type === "dns" || type === "ip" || type === "email") return { type, value };
    if (type === "url") return { type: "uri" as const, value };
    return { type: "other" as const, value: `${type}:${value}` };
  });
}

function signatureAlgorithm(cert: x509.X509Certificate): string {
  try {
    const alg = cert.signatureAlgorithm as Algorithm & { hash?: Algorithm };
    return alg.hash ? `${alg.name} with ${alg.hash.name}` : alg.name;
  } catch {
    return "unknown";
  }
}

function keyInfo(cert: X509Certificate): CertificateInfo["key"] {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType ?? "unknown";
  const details = key.asymmetricKeyDetails ?? {};
  if (details.namedCurve) return { type, bits: CURVE_BITS[details.namedCurve] ?? null, curve: details.namedCurve };
  if (details.modulusLength) return { type, bits: details.modulusLength };
  if (type === "ed25519") return { type, bits: 256 };
  if (type === "ed448") return { type, bits: 456 };
  return { type, bits: null };
}

/** @throws if `der` is not a certificate (the caller got it from a TLS stack, so that is a bug). */
export function describeCertificate(der: Buffer, now: Date): CertificateInfo {
  const cert = new X509Certificate(der);
  const parsed = new x509.X509Certificate(new Uint8Array(der));
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const names = sans(parsed);
  const lifetimeHours = Math.round((notAfter.getTime() - notBefore.getTime()) / 36e5);
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    issuer: cert.issuer.replace(/\n/g, ", "),
    serial: cert.serialNumber,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY),
    secondsLeft: Math.floor((notAfter.getTime() - now.getTime()) / 1000),
    lifetimeHours,
    shortLived: lifetimeHours <= SHORT_LIVED_HOURS,
    sans: names,
    spiffeIds: names.filter((n) => n.type === "uri" && n.value.startsWith("spiffe://")).map((n) => n.value),
    key: keyInfo(cert),
    signatureAlgorithm: signatureAlgorithm(parsed),
    // Self-signed: issuer equals subject and its own key verifies the signature (RFC 5280 §3.2). Not
    // checkIssued(): OpenSSL's check also wants keyCertSign, which a self-signed leaf often lacks.
    selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
    isCa: cert.ca,
    sha256: cert.fingerprint256,
  };
}
