/** Types shared by the internal CA's operations. */

/** What a leaf certificate may be used for (its extended key usages). */
export type CertKind = "server" | "client" | "server+client";

/** RFC 5280 §5.3.1 reason codes pipeseal accepts for a leaf certificate. */
export const REVOCATION_REASONS = ["unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation", "privilegeWithdrawn"] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/**
 * A certificate's status as `ca list` shows it. `superseded` means a renewal replaced it: it
 * stays cryptographically valid until it expires and is not put on the CRL (revoke it with
 * reason `superseded` for that).
 */
export type CertStatus = "valid" | "expired" | "revoked" | "superseded";

/** The CA as stored (public parts only). */
export interface CaInfo {
  readonly name: string;
  readonly trustDomain: string;
  readonly maxTtlSeconds: number;
  /** The keystore key that seals the CA private keys. */
  readonly keyName: string;
  readonly rootSerial: string;
  readonly issuingSerial: string;
  readonly rootNotAfter: Date;
  readonly issuingNotAfter: Date;
  /** The root certificate (PEM): the trust anchor. */
  readonly rootPem: string;
  /** The issuing CA certificate (PEM), signed by the root. */
  readonly issuingPem: string;
  readonly createdAt: Date;
}

/** One issued leaf certificate in the registry. */
export interface CertRecord {
  /** Lowercase hex, no separators. */
  readonly serial: string;
  /** `spiffe://<trust-domain>/<env>/<service>` */
  readonly identity: string;
  readonly kind: CertKind;
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly ttlSeconds: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly status: CertStatus;
  readonly issuedAt: Date;
  readonly revokedAt: Date | null;
  readonly revocationReason: RevocationReason | null;
  /** Serial of the certificate a renewal replaced this one with. */
  readonly replacedBy: string | null;
}
