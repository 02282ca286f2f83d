/**
 * Reading a CRL for a relying party (a server checking its clients): parse, find the CA that
 * issued it among the certificates we trust, verify its signature with node:crypto, read its
 * validity window and its revoked serials. A CRL we cannot attribute to a trusted CA is a
 * configuration error, never a list we half-use.
 */
import { type X509Certificate, verify } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, CertificateList, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import { PipesealError } from "../../errors.js";
import { normalizeSerial } from "../ca/x509-util.js";
import { x509 } from "../x509.js";

/** One CRL whose signature verified under `issuer`, a CA we trust. */
export interface VerifiedCrl {
  /** The CA certificate that signed it (node's X509Certificate, for checkIssued at connection time). */
  readonly issuer: X509Certificate;
  /** The issuer's subject as text (for messages and logs). */
  readonly issuerName: string;
  /** RFC 5280 §5.2.3 cRLNumber, when present (it only grows: a lower one is an older CRL). */
  readonly crlNumber: number | undefined;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** Revoked serials (lowercase hex, no leading zero bytes: normalizeSerial) → revocation time and reason. */
  readonly revoked: ReadonlyMap<string, { readonly revokedAt: Date; readonly reason: string }>;
}

/** RFC 5280 §4.1.1.2 / RFC 5758 §3.2 / RFC 4055 / RFC 8410: signature OIDs we accept, and the hash node needs. */
const SIGNATURE_HASH: Record<string, string | null> = {
  "1.2.840.10045.4.3.2": "sha256", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
  "1.2.840.113549.1.1.11": "sha256", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.3.101.112": null, // Ed25519
};

const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g;
/** Clock skew tolerated on thisUpdate (a CRL made a moment ago on a machine slightly ahead). */
const MAX_FUTURE_MS = 5 * 60_000;

const invalid = (msg: string, cause?: unknown) => new PipesealError("CRL_INVALID", msg, cause === undefined ? undefined : { cause });

/**
 * Splits a PEM bundle into CRLs (both `X509 CRL` and `CRL` labels).
 * @throws PipesealError(CERT_MALFORMED) when there is none or one is not a CRL.
 */
export function parseCrlBundle(pem: string | Buffer, what = "crl"): x509.X509Crl[] {
  const blocks = pem.toString().match(PEM_CRL) ?? [];
  if (blocks.length === 0) throw new PipesealError("CERT_MALFORMED", `${what}: no PEM X509 CRL found`);
  return blocks.map((b, i) => {
    try {
      return new x509.X509Crl(b.replace(/-----(BEGIN|END) X509 CRL-----/g, "-----$1 CRL-----"));
    } catch (e) {
      throw new PipesealError("CERT_MALFORMED", `${what}: CRL ${i + 1} is not a valid X.509 CRL`, { cause: e });
    }
  });
}

/**
 * Verifies one CRL against the CAs we trust: its issuer name must be the subject of one of
 * `trusted` (a CA allowed to sign CRLs) and its signature must verify under that CA's key;
 * it must carry a nextUpdate and must not be dated in the future.
 * @throws PipesealError(CRL_INVALID) when no trusted CA signed it, the signature does not
 *   verify, it has no nextUpdate or a thisUpdate in the future.
 */
export function verifyCrl(crl: x509.X509Crl, trusted: readonly X509Certificate[], now: number, what = "crl"): VerifiedCrl {
  const asn = AsnConvert.parse(crl.rawData, CertificateList);
  const oid = asn.signatureAlgorithm.algorithm;
  // RFC 5280 §5.1.1.2: the outer and the signed algorithm identifiers must agree
  if (oid !== asn.tbsCertList.signature.algorithm) throw invalid(`${what}: its two signature algorithm fields differ`);
  if (!(oid in SIGNATURE_HASH)) throw invalid(`${what}: unsupported signature algorithm ${oid}`);
  const tbs = new Uint8Array(asn.tbsCertListRaw ?? AsnConvert.serialize(asn.tbsCertList));
  const issuerDer = Buffer.from(AsnConvert.serialize(asn.tbsCertList.issuer));
  const candidates = trusted.filter((ca) => ca.ca && Buffer.from(new x509.X509Certificate(ca.raw).subjectName.toArrayBuffer()).equals(issuerDer));
  if (candidates.length === 0)
    throw invalid(`${what}: issued by "${crl.issuer}", which is not a CA this server trusts (ca.pem and the issuing CA of its own certificate)`);
  const signer = candidates.find((ca) => mayCrlSign(ca) && signatureValid(oid, tbs, Buffer.from(asn.signature), ca));
  if (!signer)
    throw invalid(`${what}: the signature does not verify under the key of "${crl.issuer}" (a CRL from another CA of the same name, or a forged one)`);
  const nextUpdate = crl.nextUpdate;
  if (!nextUpdate) throw invalid(`${what}: has no nextUpdate, so it could never be seen to go stale`);
  if (crl.thisUpdate.getTime() > now + MAX_FUTURE_MS) throw invalid(`${what}: thisUpdate ${crl.thisUpdate.toISOString()} is in the future (check the clocks)`);
  const revoked = new Map<string, { revokedAt: Date; reason: string }>();
  for (const e of crl.entries) {
    revoked.set(normalizeSerial(e.serialNumber), {
      revokedAt: e.revocationDate,
      reason: e.reason === undefined ? "unspecified" : (x509.X509CrlReason[e.reason] ?? String(e.reason)),
    });
  }
  return { issuer: signer, issuerName: crl.issuer, crlNumber: crlNumberOf(crl, what), thisUpdate: crl.thisUpdate, nextUpdate, revoked };
}

function signatureValid(oid: string, tbs: Uint8Array, signature: Buffer, ca: X509Certificate): boolean {
  try {
    return verify(SIGNATURE_HASH[oid] ?? null, tbs, ca.publicKey, signature);
  } catch {
    return false;
  }
}

/** RFC 5280 §4.2.1.3: a CA with a keyUsage extension may sign CRLs only with cRLSign. */
function mayCrlSign(ca: X509Certificate): boolean {
  const ku = new x509.X509Certificate(ca.raw).getExtension(x509.KeyUsagesExtension);
  return ku === null || (ku.usages & x509.KeyUsageFlags.cRLSign) !== 0;
}

/** RFC 5280 §5.2.3 cRLNumber, or undefined. @throws PipesealError(CRL_INVALID) for an unreadable one. */
function crlNumberOf(crl: x509.X509Crl, what: string): number | undefined {
  const ext = crl.getExtension(id_ce_cRLNumber);
  if (!ext) return undefined;
  try {
    return AsnConvert.parse(ext.value, CRLNumber).value;
  } catch (e) {
    throw invalid(`${what}: its cRLNumber extension is malformed`, e);
  }
}
