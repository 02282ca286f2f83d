/** `createCrl`: a CRL signed by the issuing CA listing revoked, unexpired certificates. */
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import { UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { x509 } from "../x509.js";
import { openCaKey, readCa, requireCa } from "./store.js";
import type { RevocationReason } from "./types.js";
import { EC_SIGN, wholeSeconds } from "./x509-util.js";

/** Default time until the next CRL is due. */
export const DEFAULT_CRL_NEXT_UPDATE_SECONDS = 24 * 3600;

export interface CrlOptions {
  /** nextUpdate = thisUpdate + this many seconds (default 24 h). */
  readonly nextUpdateSeconds?: number;
  /** Clock in epoch ms (tests). */
  readonly now?: number;
}

export interface Crl {
  readonly pem: string;
  readonly crlNumber: number;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  readonly entries: readonly { serial: string; revokedAt: Date; reason: RevocationReason }[];
}

const REASON_CODE: Record<RevocationReason, x509.X509CrlReason> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  privilegeWithdrawn: x509.X509CrlReason.privilegeWithdrawn,
};

/**
 * Signs a CRL (RFC 5280 §5) with the issuing CA key (an audited unwrap) listing every revoked
 * certificate that has not yet expired, with its reason (`unspecified` is encoded by omitting
 * the reason code, §5.3.1). Each CRL gets the next cRLNumber, advanced with a `ca.crl` audit
 * record. Superseded-but-not-revoked certificates are not listed.
 * @example const crl = await createCrl(ks, { nextUpdateSeconds: 3600 }); await fs.writeFile("crl.pem", crl.pem);
 * @throws KeyError(CA_NOT_INITIALIZED); UsageError(INVALID_ARGUMENT) for a bad nextUpdate; AuditError.
 */
export async function createCrl(ks: LocalKeystore, options: CrlOptions = {}): Promise<Crl> {
  const ca = requireCa(ks);
  const next = options.nextUpdateSeconds ?? DEFAULT_CRL_NEXT_UPDATE_SECONDS;
  if (!Number.isSafeInteger(next) || next < 1 || next > 366 * 86400) throw new UsageError("INVALID_ARGUMENT", "nextUpdate must be between 1 s and 366 days");
  const nowMs = options.now ?? Date.now();
  const rows = ks.readTables(
    (db) =>
      db
        .prepare("SELECT serial, revoked_at, revocation_reason FROM pki_certs WHERE status = 'revoked' AND not_after > ? ORDER BY revoked_at, serial")
        .all(nowMs) as { serial: string; revoked_at: number; revocation_reason: RevocationReason }[],
  );
  const entries = rows.map((r) => ({ serial: r.serial, revokedAt: wholeSeconds(r.revoked_at), reason: r.revocation_reason }));
  const crlNumber = ks.auditedChange({ operation: "ca.crl", keyName: ca.key_name, context: { revoked: String(entries.length) } }, (db) => {
    db.prepare("UPDATE pki_ca SET crl_number = crl_number + 1 WHERE id = 1").run();
    return readCa(db)!.crl_number;
  });
  const issuing = new x509.X509Certificate(ca.issuing_cert);
  const signingKey = await openCaKey(ks, ca, "issuing");
  const thisUpdate = wholeSeconds(nowMs);
  const nextUpdate = wholeSeconds(nowMs + next * 1000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuing.subjectName,
    thisUpdate,
    nextUpdate,
    signingKey,
    signingAlgorithm: EC_SIGN,
    entries: entries.map((e) => ({
      serialNumber: e.serial,
      revocationDate: e.revokedAt,
      ...(e.reason === "unspecified" ? {} : { reason: REASON_CODE[e.reason] }),
    })),
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(issuing),
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(crlNumber))),
    ],
  });
  // RFC 7468 §5: the label is "X509 CRL" (the library writes "CRL", which OpenSSL refuses)
  return { pem: x509.PemConverter.encode(crl.rawData, "X509 CRL"), crlNumber, thisUpdate, nextUpdate, entries };
}
