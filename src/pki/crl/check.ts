/**
 * `RevocationList`: the revocation check a server runs on every client certificate, after
 * OpenSSL has verified the chain. Built once per CRL file from CRLs whose signatures verified
 * (load.ts), then pure: a certificate and a time in, a verdict out. The mTLS gate uses it; the
 * data gateway (or any relying party) can use it alone.
 */
import { X509Certificate } from "node:crypto";
import { PipesealError } from "../../errors.js";
import { normalizeSerial } from "../ca/x509-util.js";
import { type VerifiedCrl, parseCrlBundle, verifyCrl } from "./load.js";

/**
 * What to do with a CRL past its nextUpdate. `refuse` (the default): every client certificate
 * its CA issued is refused until a fresh CRL is in place — a stale list may be missing a
 * revocation, and failing closed is the only answer that cannot let a revoked certificate in.
 * `warn`: keep using it and report it (an `expired` verdict field and the gate's `crlExpired`
 * event), for deployments that prefer availability and watch their logs.
 */
export type CrlExpiredPolicy = "refuse" | "warn";

export type RevocationVerdict =
  | { readonly ok: true; readonly expired?: VerifiedCrl }
  | {
      readonly ok: false;
      readonly reason: "revoked";
      readonly serial: string;
      readonly issuer: string;
      readonly revokedAt: Date;
      readonly revocationReason: string;
    }
  | { readonly ok: false; readonly reason: "crl-expired"; readonly serial: string; readonly issuer: string; readonly nextUpdate: Date }
  | { readonly ok: false; readonly reason: "crl-missing"; readonly serial: string; readonly issuer: string };

export interface RevocationListOptions {
  /** CA certificates (PEM bundle or parsed) allowed to sign the CRLs: normally {@link trustedCrlIssuers}. */
  readonly trusted: string | Buffer | readonly X509Certificate[];
  /** Clock in epoch ms (default now): thisUpdate must not lie in the future. */
  readonly now?: number;
  /** Name for messages (e.g. the file path). */
  readonly what?: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certsOf(pem: string | Buffer): X509Certificate[] {
  return (pem.toString().match(PEM_CERT) ?? []).map((b) => new X509Certificate(b));
}

/**
 * The CAs that may sign CRLs for a server's clients: the roots of its CA bundle, and the CA
 * certificates of its own chain (`cert.pem` after the leaf: the issuing CA `pipeseal ca issue`
 * puts there) that a root issued and signed. A CA the server merely received is never trusted.
 */
export function trustedCrlIssuers(caPem: string | Buffer, chainPem: string | Buffer): X509Certificate[] {
  const roots = certsOf(caPem).filter((c) => c.ca);
  const intermediates = certsOf(chainPem)
    .slice(1)
    .filter((c) => c.ca && roots.some((r) => c.checkIssued(r) && c.verify(r.publicKey)));
  return [...roots, ...intermediates];
}

/**
 * The CRLs of a PEM bundle, each verified against `trusted`, and the check against them.
 *
 * Security guarantees: every CRL used was signed by a trusted CA (its name and its key); a
 * certificate is matched to the CRL of the CA that actually signed it (issuer name and key
 * identifier, then its signature under that CA's key), then by serial. A certificate whose
 * CA has no CRL here is refused (`crl-missing`): with revocation configured, "no list" never
 * means "not revoked". A CRL past nextUpdate refuses (or, with `warn`, flags) every
 * certificate of its CA.
 *
 * @example
 * const list = RevocationList.fromPem(readFileSync("crl.pem"), { trusted: trustedCrlIssuers(caPem, certPem) });
 * const v = list.check(socket.getPeerX509Certificate()!, Date.now());
 * if (!v.ok) socket.destroy();
 * @throws PipesealError(CERT_MALFORMED) for unparsable PEM; (CRL_INVALID) for a CRL no trusted
 *   CA signed, a bad signature, no nextUpdate, a thisUpdate in the future, or two CRLs of one CA.
 */
export class RevocationList {
  readonly crls: readonly VerifiedCrl[];

  private constructor(crls: readonly VerifiedCrl[]) {
    this.crls = crls;
  }

  static fromPem(pem: string | Buffer, options: RevocationListOptions): RevocationList {
    const trusted = typeof options.trusted === "string" || Buffer.isBuffer(options.trusted) ? certsOf(options.trusted) : options.trusted;
    const what = options.what ?? "crl";
    const now = options.now ?? Date.now();
    const crls = parseCrlBundle(pem, what).map((c, i, all) => verifyCrl(c, trusted, now, all.length > 1 ? `${what} (CRL ${i + 1})` : what));
    for (const [i, c] of crls.entries()) {
      if (crls.slice(0, i).some((d) => d.issuer.fingerprint256 === c.issuer.fingerprint256))
        throw new PipesealError("CRL_INVALID", `${what}: holds two CRLs of "${c.issuerName}"; keep the newest`);
    }
    return new RevocationList(crls);
  }

  /** The earliest nextUpdate: when this list needs replacing. */
  get nextUpdate(): Date {
    return new Date(Math.min(...this.crls.map((c) => c.nextUpdate.getTime())));
  }

  /** Revoked serials over all CRLs. */
  get size(): number {
    return this.crls.reduce((n, c) => n + c.revoked.size, 0);
  }

  /**
   * Refuses a replacement that is older than this list for any CA (lower cRLNumber, or an
   * earlier thisUpdate): someone putting back yesterday's CRL would un-revoke a certificate.
   * @throws PipesealError(CRL_INVALID)
   */
  assertNotOlderThan(previous: RevocationList, what = "crl"): void {
    for (const old of previous.crls) {
      const next = this.crls.find((c) => c.issuer.fingerprint256 === old.issuer.fingerprint256);
      if (!next) throw new PipesealError("CRL_INVALID", `${what}: no longer holds a CRL of "${old.issuerName}"; the one in use stays`);
      const older = old.crlNumber !== undefined && next.crlNumber !== undefined ? next.crlNumber < old.crlNumber : next.thisUpdate < old.thisUpdate;
      if (older)
        throw new PipesealError(
          "CRL_INVALID",
          `${what}: is older than the CRL in use for "${old.issuerName}" (cRLNumber ${next.crlNumber ?? "-"} < ${old.crlNumber ?? "-"}); the one in use stays`,
        );
    }
  }

  /** Whether any CRL here lists `serial` (hex, any case or colons), whatever its CA: for a token minted over that certificate (server/tokens.ts). */
  revokes(serial: string): boolean {
    const s = normalizeSerial(serial);
    return this.crls.some((c) => c.revoked.has(s));
  }

  /**
   * Checks a verified peer certificate (and the CA above it, when the peer sent it and a CRL
   * for that CA's issuer is here) at time `now`.
   */
  check(cert: X509Certificate, now: number, onExpired: CrlExpiredPolicy = "refuse"): RevocationVerdict {
    const serial = normalizeSerial(cert.serialNumber);
    const crl = this.#crlFor(cert);
    if (!crl) return { ok: false, reason: "crl-missing", serial, issuer: cert.issuer };
    let expired: VerifiedCrl | undefined;
    if (now > crl.nextUpdate.getTime()) {
      if (onExpired === "refuse") return { ok: false, reason: "crl-expired", serial, issuer: crl.issuerName, nextUpdate: crl.nextUpdate };
      expired = crl;
    }
    const hit = crl.revoked.get(serial);
    if (hit) return { ok: false, reason: "revoked", serial, issuer: crl.issuerName, revokedAt: hit.revokedAt, revocationReason: hit.reason };
    // the CA above the leaf (an issuing CA): revoked only if its own issuer's CRL is here and lists it
    const up = cert.issuerCertificate;
    if (up && up.fingerprint256 !== cert.fingerprint256 && !up.checkIssued(up)) {
      const parent = this.#crlFor(up);
      const upHit = parent?.revoked.get(normalizeSerial(up.serialNumber));
      if (parent && upHit)
        return {
          ok: false,
          reason: "revoked",
          serial: normalizeSerial(up.serialNumber),
          issuer: parent.issuerName,
          revokedAt: upHit.revokedAt,
          revocationReason: upHit.reason,
        };
    }
    return expired ? { ok: true, expired } : { ok: true };
  }

  /** The CRL of the CA that signed `cert`: name and key identifier match, and the signature verifies. */
  #crlFor(cert: X509Certificate): VerifiedCrl | undefined {
    return this.crls.find((c) => cert.checkIssued(c.issuer) && cert.verify(c.issuer.publicKey));
  }
}
