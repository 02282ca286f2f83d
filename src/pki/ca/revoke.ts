/** `revokeCertificate`: marks a certificate revoked so the next CRL lists it. */
import { UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { findCert, requireCa, requireCert, toRecord } from "./store.js";
import { type CertRecord, REVOCATION_REASONS, type RevocationReason } from "./types.js";
import { normalizeSerial } from "./x509-util.js";

export interface RevokeOptions {
  /** RFC 5280 §5.3.1 reason; default `unspecified`. */
  readonly reason?: RevocationReason;
  /** Clock in epoch ms (tests). */
  readonly now?: number;
}

/** @throws UsageError(INVALID_ARGUMENT) unless `reason` is one of {@link REVOCATION_REASONS}. */
export function parseReason(reason: string): RevocationReason {
  if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) {
    throw new UsageError("INVALID_ARGUMENT", `"${String(reason).slice(0, 40)}" is not a revocation reason; use one of ${REVOCATION_REASONS.join(", ")}`);
  }
  return reason as RevocationReason;
}

/**
 * Revokes the certificate with `serial` (hex, colons allowed) in the registry, with a
 * `ca.revoke` audit record in the same transaction. Publish it with `createCrl`.
 * @example revokeCertificate(ks, "3f0a…", { reason: "keyCompromise" });
 * @throws KeyError(CA_NOT_INITIALIZED | CERT_NOT_FOUND); UsageError(INVALID_ARGUMENT) for a
 *   bad serial or reason, or a certificate already revoked; AuditError.
 */
export function revokeCertificate(ks: LocalKeystore, serial: string, options: RevokeOptions = {}): CertRecord {
  const ca = requireCa(ks);
  const wanted = normalizeSerial(serial);
  const reason = parseReason(options.reason ?? "unspecified");
  const nowMs = options.now ?? Date.now();
  const known = ks.readTables((db) => findCert(db, wanted));
  const event = { operation: "ca.revoke", keyName: ca.key_name, objectPath: known?.identity ?? null, context: { serial: wanted, reason } };
  return ks.auditedChange(event, (db) => {
    const row = requireCert(db, wanted);
    if (row.status === "revoked") throw new UsageError("INVALID_ARGUMENT", `certificate ${wanted} is already revoked (${row.revocation_reason})`);
    db.prepare("UPDATE pki_certs SET status = 'revoked', revoked_at = ?, revocation_reason = ? WHERE serial = ?").run(nowMs, reason, wanted);
    return toRecord(requireCert(db, wanted), nowMs);
  });
}
