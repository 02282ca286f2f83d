/**
 * The shared core of issue and renew: validate a leaf request, sign it with the issuing CA
 * (an audited unwrap of its key) and record it in the registry with its audit record.
 * Internal to src/pki/ca.
 */
import { isIP } from "node:net";
import { UsageError } from "../../errors.js";
import { formatDuration } from "../../io/duration.js";
import type { Db } from "../../keys/db.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { spiffeId } from "../identity.js";
import { x509 } from "../x509.js";
import { type CaRow, chainPem, insertCert, openCaKey } from "./store.js";
import type { CertKind } from "./types.js";
import { EC_SIGN, backdateSeconds, newSerial, wholeSeconds } from "./x509-util.js";

/** Default lifetimes: 24 h for servers, 1 h for clients (and for server+client). */
export const DEFAULT_SERVER_TTL_SECONDS = 24 * 3600;
export const DEFAULT_CLIENT_TTL_SECONDS = 3600;

export interface LeafSpec {
  readonly env: string;
  readonly service: string;
  readonly kind: CertKind;
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly ttlSeconds: number;
}

export interface Minted {
  readonly serial: string;
  readonly identity: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Leaf then issuing CA. */
  readonly certPem: string;
  /** The root (trust anchor). */
  readonly caPem: string;
}

// RFC 1123 host names: LDH labels of 1-63, at most 253 in all; no wildcards for service certs
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function checkDns(name: string): string {
  const n = String(name).toLowerCase();
  if (n.length > 253 || !n.split(".").every((l) => LABEL.test(l))) {
    throw new UsageError("INVALID_ARGUMENT", `"${String(name).slice(0, 80)}" is not a DNS name (letters, digits, - and dots; no wildcards)`);
  }
  return n;
}

export function checkIp(ip: string): string {
  if (isIP(String(ip)) === 0) throw new UsageError("INVALID_ARGUMENT", `"${String(ip).slice(0, 60)}" is not an IP address`);
  return String(ip);
}

export function defaultTtl(kind: CertKind): number {
  return kind === "server" ? DEFAULT_SERVER_TTL_SECONDS : DEFAULT_CLIENT_TTL_SECONDS;
}

/** @throws UsageError(INVALID_ARGUMENT) for a TTL out of range for this CA. */
export function checkTtl(ca: CaRow, ttl: number, nowMs: number): void {
  if (!Number.isSafeInteger(ttl) || ttl < 1) throw new UsageError("INVALID_ARGUMENT", "the TTL must be a whole number of seconds ≥ 1");
  if (ttl > ca.max_ttl_seconds) {
    throw new UsageError(
      "INVALID_ARGUMENT",
      `a TTL of ${formatDuration(ttl)} exceeds this CA's maximum of ${formatDuration(ca.max_ttl_seconds)}; ask for at most ${formatDuration(ca.max_ttl_seconds)}`,
    );
  }
  const issuingNotAfter = new x509.X509Certificate(ca.issuing_cert).notAfter.getTime();
  if (nowMs + ttl * 1000 > issuingNotAfter) {
    throw new UsageError(
      "INVALID_ARGUMENT",
      `the certificate would outlive the issuing CA (expires ${new Date(issuingNotAfter).toISOString()}); rotate the CA`,
    );
  }
}

/**
 * Signs a leaf for `publicKey` and records it. `record` runs inside the audited transaction
 * after the new row is inserted (renew uses it to supersede the old one).
 */
export async function mintLeaf(
  ks: LocalKeystore,
  ca: CaRow,
  spec: LeafSpec,
  publicKey: x509.PublicKeyType,
  audit: { operation: "ca.issue" | "ca.renew"; context?: Record<string, string>; record?: (db: Db, serial: string) => void },
  nowMs: number,
): Promise<Minted> {
  const identity = spiffeId({ trustDomain: ca.trust_domain, env: spec.env, service: spec.service });
  checkTtl(ca, spec.ttlSeconds, nowMs);
  const issuingCert = new x509.X509Certificate(ca.issuing_cert);
  const serial = newSerial();
  const notBefore = wholeSeconds(nowMs - backdateSeconds(spec.ttlSeconds) * 1000);
  const notAfter = wholeSeconds(nowMs + spec.ttlSeconds * 1000);
  const usages = [...(spec.kind !== "client" ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(spec.kind !== "server" ? [x509.ExtendedKeyUsage.clientAuth] : [])];
  // SPIFFE X.509-SVID §4: exactly one URI SAN (the SPIFFE ID), not a CA, digitalSignature
  const names: x509.JsonGeneralName[] = [
    { type: "url", value: identity },
    ...spec.dns.map((value) => ({ type: "dns" as const, value })),
    ...spec.ip.map((value) => ({ type: "ip" as const, value })),
  ];
  const signingKey = await openCaKey(ks, ca, "issuing");
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: [{ CN: [spec.service] }, { OU: [spec.env] }],
    issuer: issuingCert.subjectName,
    notBefore,
    notAfter,
    publicKey,
    signingKey,
    signingAlgorithm: EC_SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuingCert),
    ],
  });
  const leafPem = leaf.toString("pem");
  ks.auditedChange(
    {
      operation: audit.operation,
      keyName: ca.key_name,
      objectPath: identity,
      context: { serial, kind: spec.kind, notAfter: notAfter.toISOString(), ...audit.context },
    },
    (db) => {
      insertCert(db, {
        serial,
        identity,
        kind: spec.kind,
        dns: JSON.stringify(spec.dns),
        ip: JSON.stringify(spec.ip),
        ttl_seconds: spec.ttlSeconds,
        not_before: notBefore.getTime(),
        not_after: notAfter.getTime(),
        status: "active",
        revoked_at: null,
        revocation_reason: null,
        replaced_by: null,
        cert_pem: leafPem,
        issued_at: nowMs,
      });
      audit.record?.(db, serial);
    },
  );
  return { serial, identity, notBefore, notAfter, certPem: chainPem(leafPem, ca), caPem: `${ca.root_cert.trim()}\n` };
}
