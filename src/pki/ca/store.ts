/**
 * The CA's storage in keystore.db (tables `pki_ca`, `pki_certs`, schema migration 2) and
 * the sealing of CA private keys. A CA private key exists in plaintext only in memory:
 * at rest it is a sealed buffer under the keystore key {@link CA_KEY_NAME}, so each use
 * is an unwrap recorded in the audit chain (operation `decrypt`, object `pki:ca/<role>`).
 * Internal to src/pki/ca.
 */
import { createPrivateKey, createPublicKey, webcrypto } from "node:crypto";
import { openBuffer, sealBuffer } from "../../envelope/buffer.js";
import { KeyError, KeystoreError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import type { Db } from "../../keys/db.js";
import { x509 } from "../x509.js";
import type { CaInfo, CertKind, CertRecord, CertStatus, RevocationReason } from "./types.js";
import { EC_KEY, spkiDer } from "./x509-util.js";

/** The keystore key that seals the CA private keys; `ca init` creates it. */
export const CA_KEY_NAME = "pki/ca";

export type CaRole = "root" | "issuing";

export interface CaRow {
  name: string;
  trust_domain: string;
  max_ttl_seconds: number;
  key_name: string;
  root_cert: string;
  root_key: Buffer;
  issuing_cert: string;
  issuing_key: Buffer;
  crl_number: number;
  created_at: number;
}

export interface CertRow {
  serial: string;
  identity: string;
  kind: CertKind;
  dns: string;
  ip: string;
  ttl_seconds: number;
  not_before: number;
  not_after: number;
  status: "active" | "superseded" | "revoked";
  revoked_at: number | null;
  revocation_reason: RevocationReason | null;
  replaced_by: string | null;
  cert_pem: string;
  issued_at: number;
}

export function readCa(db: Db): CaRow | null {
  return (db.prepare("SELECT * FROM pki_ca WHERE id = 1").get() as CaRow | undefined) ?? null;
}

/** @throws KeyError(CA_NOT_INITIALIZED) */
export function requireCa(ks: Pick<LocalKeystore, "readTables">): CaRow {
  const row = ks.readTables(readCa);
  if (row === null) throw new KeyError("CA_NOT_INITIALIZED");
  return row;
}

export function insertCa(db: Db, row: CaRow): void {
  db.prepare(
    `INSERT INTO pki_ca (id, name, trust_domain, max_ttl_seconds, key_name, root_cert, root_key, issuing_cert, issuing_key, crl_number, created_at)
     VALUES (1, @name, @trust_domain, @max_ttl_seconds, @key_name, @root_cert, @root_key, @issuing_cert, @issuing_key, @crl_number, @created_at)`,
  ).run(row);
}

export function findCert(db: Db, serial: string): CertRow | null {
  return (db.prepare("SELECT * FROM pki_certs WHERE serial = ?").get(serial) as CertRow | undefined) ?? null;
}

/** @throws KeyError(CERT_NOT_FOUND) */
export function requireCert(db: Db, serial: string): CertRow {
  const row = findCert(db, serial);
  if (row === null) throw new KeyError("CERT_NOT_FOUND", `no certificate with serial ${serial} in this CA's registry`);
  return row;
}

export function insertCert(db: Db, row: CertRow): void {
  db.prepare(
    `INSERT INTO pki_certs (serial, identity, kind, dns, ip, ttl_seconds, not_before, not_after, status, revoked_at, revocation_reason, replaced_by, cert_pem, issued_at)
     VALUES (@serial, @identity, @kind, @dns, @ip, @ttl_seconds, @not_before, @not_after, @status, @revoked_at, @revocation_reason, @replaced_by, @cert_pem, @issued_at)`,
  ).run(row);
}

export function listCertRows(db: Db): CertRow[] {
  return db.prepare("SELECT * FROM pki_certs ORDER BY issued_at, serial").all() as CertRow[];
}

export function certStatus(row: CertRow, nowMs: number): CertStatus {
  if (row.status === "revoked") return "revoked";
  if (row.status === "superseded") return "superseded";
  return row.not_after <= nowMs ? "expired" : "valid";
}

export function toRecord(row: CertRow, nowMs: number): CertRecord {
  return {
    serial: row.serial,
    identity: row.identity,
    kind: row.kind,
    dns: JSON.parse(row.dns) as string[],
    ip: JSON.parse(row.ip) as string[],
    ttlSeconds: row.ttl_seconds,
    notBefore: new Date(row.not_before),
    notAfter: new Date(row.not_after),
    status: certStatus(row, nowMs),
    issuedAt: new Date(row.issued_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    revocationReason: row.revocation_reason,
    replacedBy: row.replaced_by,
  };
}

export function toCaInfo(row: CaRow): CaInfo {
  const root = new x509.X509Certificate(row.root_cert);
  const issuing = new x509.X509Certificate(row.issuing_cert);
  return {
    name: row.name,
    trustDomain: row.trust_domain,
    maxTtlSeconds: row.max_ttl_seconds,
    keyName: row.key_name,
    rootSerial: root.serialNumber.toLowerCase(),
    issuingSerial: issuing.serialNumber.toLowerCase(),
    rootNotAfter: root.notAfter,
    issuingNotAfter: issuing.notAfter,
    rootPem: row.root_cert,
    issuingPem: row.issuing_cert,
    createdAt: new Date(row.created_at),
  };
}

/** Seals a CA private key (PKCS#8 DER) under the CA keystore key; the caller wipes `pkcs8`. */
export function sealCaKey(ks: LocalKeystore, keyName: string, role: CaRole, pkcs8: Uint8Array): Promise<Buffer> {
  return sealBuffer(ks, pkcs8, { keyName, context: { purpose: "pki-ca-key", role } });
}

/**
 * Unseals a CA private key (an audited unwrap) and imports it as a non-extractable signing
 * key, after checking it belongs to the stored CA certificate (so a swapped blob is refused).
 * The PKCS#8 bytes are wiped before returning.
 * @throws KeyError/AuditError/DecryptError from the keystore; KeystoreError(KEYSTORE_CORRUPT) on a key/certificate mismatch.
 */
export async function openCaKey(ks: LocalKeystore, ca: CaRow, role: CaRole): Promise<CryptoKey> {
  const pkcs8 = await openBuffer(ks, role === "root" ? ca.root_key : ca.issuing_key, { path: `pki:ca/${role}` });
  try {
    const cert = new x509.X509Certificate(role === "root" ? ca.root_cert : ca.issuing_cert);
    const derived = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" });
    if (!derived.equals(spkiDer(cert.publicKey)))
      throw new KeystoreError("KEYSTORE_CORRUPT", `the stored ${role} CA key does not match the ${role} CA certificate`);
    return await webcrypto.subtle.importKey("pkcs8", pkcs8, EC_KEY, false, ["sign"]);
  } finally {
    pkcs8.fill(0);
  }
}

/** Issuing chain for a leaf: leaf PEM then issuing CA PEM. */
export function chainPem(leafPem: string, ca: CaRow): string {
  return `${leafPem.trim()}\n${ca.issuing_cert.trim()}\n`;
}
