/**
 * The peer check both sides run after OpenSSL has verified the chain: one SPIFFE ID in the
 * URI SAN (X509-SVID spec §2), on the allow-list, and the optional pins. Pure: a detailed
 * peer certificate in, a verdict out.
 */
import { X509Certificate, createHash } from "node:crypto";
import type { DetailedPeerCertificate, PeerCertificate } from "node:tls";
import { UsageError } from "../../errors.js";
import { identityAllowed, parseSpiffeId, type ServiceIdentity } from "../identity.js";

/** Who is on the other end of an authenticated connection. */
export interface PeerIdentity {
  /** `spiffe://<trust-domain>/<env>/<service>` from the certificate's URI SAN. */
  readonly spiffeId: string;
  readonly identity: ServiceIdentity;
  /** Certificate serial, upper-case hex. */
  readonly serialNumber: string;
  readonly notAfter: Date;
}

/**
 * Pins, checked on top of chain verification.
 * - `caSha256`: SHA-256 fingerprints (hex, colons optional) of CA certificates; the peer's
 *   verified chain must contain one of them (pin the root you trust during a CA rotation).
 * - `spkiSha256`: base64 SHA-256 of a peer leaf's SubjectPublicKeyInfo (RFC 7469 §2.4 pin
 *   format, `sha256//` prefix optional); the peer's key must be one of them.
 */
export interface PinOptions {
  readonly caSha256?: readonly string[];
  readonly spkiSha256?: readonly string[];
}

/** Why a peer was refused. */
export type RejectReason =
  | "no-certificate"
  | "expired"
  | "not-yet-valid"
  | "unknown-ca"
  | "revoked"
  | "crl-expired"
  | "crl-missing"
  | "bad-certificate"
  | "no-identity"
  | "identity-not-allowed"
  | "hostname-mismatch"
  | "pin-mismatch"
  | "protocol-version"
  | "handshake-failed"
  | "closed-by-peer";

export type PeerVerdict = { ok: true; peer: PeerIdentity } | { ok: false; reason: RejectReason; identity?: string; serialNumber?: string; detail?: string };

const normHex = (s: string): string => s.replace(/:/g, "").toUpperCase();
const normSpki = (s: string): string => s.replace(/^sha256\/\//, "");

/** Validates pins once, up front. @throws UsageError(INVALID_ARGUMENT) */
export function checkPins(pin: PinOptions | undefined): void {
  for (const p of pin?.caSha256 ?? []) {
    if (!/^[0-9A-F]{64}$/.test(normHex(p))) throw new UsageError("INVALID_ARGUMENT", `caSha256 pin "${p.slice(0, 80)}" is not a SHA-256 hex fingerprint`);
  }
  for (const p of pin?.spkiSha256 ?? []) {
    if (Buffer.from(normSpki(p), "base64").length !== 32)
      throw new UsageError("INVALID_ARGUMENT", `spkiSha256 pin "${p.slice(0, 80)}" is not base64 of 32 bytes`);
  }
}

/** The RFC 7469 pin of a certificate's public key: base64(SHA-256(SubjectPublicKeyInfo DER)). */
export function spkiPin(cert: X509Certificate | string | Buffer): string {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  return createHash("sha256")
    .update(x.publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");
}

/** The SPIFFE IDs in a peer certificate's URI SANs. */
export function spiffeIdsOf(cert: PeerCertificate): string[] {
  const san = cert.subjectaltname ?? "";
  const out: string[] = [];
  // node renders SANs as `URI:…, DNS:…`; a value with a comma would be JSON-quoted, and a
  // quoted one is never a valid SPIFFE ID, so it is skipped
  for (const part of san.split(", ")) if (part.startsWith("URI:spiffe://")) out.push(part.slice(4));
  return out;
}

function chainFingerprints(cert: DetailedPeerCertificate): string[] {
  const out: string[] = [];
  let c: DetailedPeerCertificate | undefined = cert;
  while (c && out.length < 16) {
    out.push(normHex(c.fingerprint256));
    if (!c.issuerCertificate || c.issuerCertificate === c || c.issuerCertificate.fingerprint256 === c.fingerprint256) break;
    c = c.issuerCertificate;
  }
  return out;
}

/**
 * Decides whether an already chain-verified peer may talk to us.
 * @param cert node's detailed peer certificate (`getPeerCertificate(true)`)
 */
export function judgePeer(cert: DetailedPeerCertificate | PeerCertificate | undefined, allow: readonly string[], pin?: PinOptions): PeerVerdict {
  if (!cert || !cert.raw) return { ok: false, reason: "no-certificate" };
  const ids = spiffeIdsOf(cert);
  // X509-SVID §2: exactly one URI SAN carries the SPIFFE ID
  if (ids.length !== 1) return { ok: false, reason: "no-identity" };
  const spiffeId = ids[0];
  if (!identityAllowed(spiffeId, allow)) return { ok: false, reason: "identity-not-allowed", identity: spiffeId };
  if (pin?.spkiSha256?.length) {
    const got = createHash("sha256")
      .update(new X509Certificate(cert.raw).publicKey.export({ type: "spki", format: "der" }))
      .digest("base64");
    if (!pin.spkiSha256.some((p) => normSpki(p) === got)) return { ok: false, reason: "pin-mismatch", identity: spiffeId };
  }
  if (pin?.caSha256?.length) {
    const chain = "issuerCertificate" in cert ? chainFingerprints(cert) : [normHex(cert.fingerprint256)];
    const want = new Set(pin.caSha256.map(normHex));
    // the leaf itself does not satisfy a CA pin
    if (!chain.slice(1).some((f) => want.has(f))) return { ok: false, reason: "pin-mismatch", identity: spiffeId };
  }
  return {
    ok: true,
    peer: { spiffeId, identity: parseSpiffeId(spiffeId), serialNumber: cert.serialNumber.toUpperCase(), notAfter: new Date(cert.valid_to) },
  };
}

/** An allow-list must name at least one identity pattern, each a SPIFFE ID with optional `*` env/service. @throws UsageError(INVALID_ARGUMENT) */
export function checkAllowList(allow: unknown, what: string): readonly string[] {
  if (!Array.isArray(allow) || allow.length === 0)
    throw new UsageError("INVALID_ARGUMENT", `${what} must list at least one spiffe://<trust-domain>/<env>/<service> pattern`);
  for (const p of allow) {
    const m = typeof p === "string" ? /^spiffe:\/\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(p) : null;
    const probe = m ? `spiffe://${m[1]}/${m[2] === "*" ? "x" : m[2]}/${m[3] === "*" ? "x" : m[3]}` : "";
    if (!m) throw new UsageError("INVALID_ARGUMENT", `${what}: "${String(p).slice(0, 80)}" is not a spiffe://<trust-domain>/<env>/<service> pattern`);
    parseSpiffeId(probe); // validates the non-wildcard parts
  }
  return allow as string[];
}
