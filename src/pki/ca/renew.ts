/** `renewCertificateDir`: replaces a folder's certificate and key once 2/3 of its lifetime has passed. */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { KeyError, UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { parseSpiffeId } from "../identity.js";
import { x509 } from "../x509.js";
import { readCertDir, writeCertDir } from "./files.js";
import { mintLeaf } from "./mint.js";
import { findCert, requireCa, requireCert } from "./store.js";
import { exportPkcs8, generateEcKeys, parseCertificates, pkcs8Pem, serialOf, spkiDer } from "./x509-util.js";

export interface RenewOptions {
  /** Renew even if the certificate is not yet due. */
  readonly force?: boolean;
  /** Clock in epoch ms (tests). */
  readonly now?: number;
}

export interface RenewResult {
  readonly renewed: boolean;
  /** Why it renewed: due, forced, or the folder's key did not match its certificate. */
  readonly why: "due" | "forced" | "key-mismatch" | null;
  /** The folder's certificate now. */
  readonly serial: string;
  readonly previousSerial: string | null;
  readonly identity: string;
  readonly notAfter: Date;
  /** When the folder's (current) certificate is due for renewal. */
  readonly dueAt: Date;
}

/** The renewal point: 2/3 of the way from notBefore to notAfter. */
export function renewalDueAt(notBefore: Date, notAfter: Date): Date {
  const start = notBefore.getTime();
  return new Date(start + Math.floor(((notAfter.getTime() - start) * 2) / 3));
}

/**
 * Reads `<dir>/cert.pem`; if 2/3 of its lifetime has passed (or `force`, or `key.pem` does
 * not match it), issues a certificate with the same identity, SANs, kind and TTL and a new
 * ECDSA P-256 key, records it with a `ca.renew` audit record in the same transaction that
 * marks the old one superseded, and writes the folder (see files.ts for the write order).
 * Otherwise changes nothing and reports when it is due.
 * @example const r = await renewCertificateDir(ks, "certs/trainer"); if (!r.renewed) console.log(`due ${r.dueAt}`);
 * @throws UsageError(CERT_NOT_FOUND) without cert.pem; UsageError(CERT_MALFORMED) for an
 *   unreadable one; KeyError(CERT_NOT_FOUND) if this CA did not issue it; UsageError(INVALID_ARGUMENT)
 *   if it was revoked; KeyError(CA_NOT_INITIALIZED); AuditError.
 */
export async function renewCertificateDir(ks: LocalKeystore, dir: string, options: RenewOptions = {}): Promise<RenewResult> {
  const ca = requireCa(ks);
  const { certPem, keyPem } = await readCertDir(dir);
  const leaf = parseCertificates(certPem, `${dir}/cert.pem`)[0];
  const serial = serialOf(leaf);
  const row = ks.readTables((db) => findCert(db, serial));
  if (row === null || !Buffer.from(new x509.X509Certificate(row.cert_pem).rawData).equals(Buffer.from(leaf.rawData))) {
    throw new KeyError("CERT_NOT_FOUND", `the certificate in ${dir} (serial ${serial}) was not issued by this CA`);
  }
  if (row.status === "revoked")
    throw new UsageError("INVALID_ARGUMENT", `certificate ${serial} was revoked (${row.revocation_reason}); issue a new one with \`pipeseal ca issue\``);
  const nowMs = options.now ?? Date.now();
  const dueAt = renewalDueAt(leaf.notBefore, leaf.notAfter);
  const mismatch = keyPem !== null && !keyMatches(keyPem, leaf);
  const why = mismatch ? "key-mismatch" : nowMs >= dueAt.getTime() ? "due" : options.force ? "forced" : null;
  if (why === null) {
    return { renewed: false, why, serial, previousSerial: null, identity: row.identity, notAfter: leaf.notAfter, dueAt };
  }
  const { env, service } = parseSpiffeId(row.identity);
  const spec = { env, service, kind: row.kind, dns: JSON.parse(row.dns) as string[], ip: JSON.parse(row.ip) as string[], ttlSeconds: row.ttl_seconds };
  const keys = await generateEcKeys();
  const minted = await mintLeaf(
    ks,
    ca,
    spec,
    keys.publicKey,
    {
      operation: "ca.renew",
      context: { previousSerial: serial },
      record: (db, newSerial) => {
        if (requireCert(db, serial).status === "revoked") throw new UsageError("INVALID_ARGUMENT", `certificate ${serial} was revoked meanwhile`);
        db.prepare("UPDATE pki_certs SET status = 'superseded', replaced_by = ? WHERE serial = ?").run(newSerial, serial);
      },
    },
    nowMs,
  );
  const der = await exportPkcs8(keys.privateKey);
  try {
    await writeCertDir(dir, { certPem: minted.certPem, caPem: minted.caPem, keyPem: pkcs8Pem(der) });
  } finally {
    der.fill(0);
  }
  return {
    renewed: true,
    why,
    serial: minted.serial,
    previousSerial: serial,
    identity: minted.identity,
    notAfter: minted.notAfter,
    dueAt: renewalDueAt(minted.notBefore, minted.notAfter),
  };
}

function keyMatches(keyPem: string, leaf: x509.X509Certificate): boolean {
  try {
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ format: "der", type: "spki" });
    return spki.equals(spkiDer(leaf.publicKey));
  } catch {
    return false;
  }
}
