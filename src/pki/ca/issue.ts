/** `issueCertificate`: a short-lived leaf certificate for a service identity. */
import { UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { x509 } from "../x509.js";
import { type LeafSpec, checkDns, checkIp, defaultTtl, mintLeaf } from "./mint.js";
import { requireCa } from "./store.js";
import type { CertKind } from "./types.js";
import { exportPkcs8, generateEcKeys, pkcs8Pem, publicKeyObject } from "./x509-util.js";

export interface IssueOptions {
  /** Service name: the last segment of the SPIFFE ID. */
  readonly service: string;
  /** Environment (prod, staging, dev …): the middle segment of the SPIFFE ID. */
  readonly env: string;
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  /** serverAuth. Default true unless `client` is set. */
  readonly server?: boolean;
  /** clientAuth. */
  readonly client?: boolean;
  /** Lifetime in seconds; default 24 h for servers, 1 h for clients. At most the CA's maximum. */
  readonly ttlSeconds?: number;
  /**
   * A PKCS#10 CSR (PEM) whose public key to certify instead of generating a key pair. Only
   * its key is used (after its signature verifies); names come from these options, never
   * from the CSR.
   */
  readonly csrPem?: string;
  /** Clock in epoch ms (tests). */
  readonly now?: number;
}

export interface IssuedCertificate {
  readonly serial: string;
  readonly identity: string;
  readonly kind: CertKind;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Leaf then issuing CA: what a service presents. */
  readonly certPem: string;
  /** The root: what peers trust. */
  readonly caPem: string;
  /** The new private key (PKCS#8 PEM), or null when a CSR was given. Write it with mode 0600. */
  readonly keyPem: string | null;
}

/** The EKU set from the server/client flags: server by default, client alone with `client`. */
export function certKind(server: boolean | undefined, client: boolean | undefined): CertKind {
  if (client && server) return "server+client";
  if (client) return "client";
  if (server === false) throw new UsageError("INVALID_ARGUMENT", "a certificate needs serverAuth, clientAuth or both");
  return "server";
}

/**
 * Issues a leaf certificate for `spiffe://<trust-domain>/<env>/<service>` with a fresh ECDSA
 * P-256 key (or the key of a CSR), signed by the issuing CA (an audited unwrap of its key),
 * and records it in the registry with a `ca.issue` audit record in the same transaction.
 * @example const cert = await issueCertificate(ks, { service: "trainer", env: "prod", client: true });
 * @throws KeyError(CA_NOT_INITIALIZED); UsageError(INVALID_ARGUMENT) for a bad name, SAN or a
 *   TTL above the CA's maximum; UsageError(CERT_MALFORMED) for an unreadable CSR or one whose
 *   signature does not verify; AuditError if the audit record cannot be written.
 */
export async function issueCertificate(ks: LocalKeystore, options: IssueOptions): Promise<IssuedCertificate> {
  const ca = requireCa(ks);
  const kind = certKind(options.server, options.client);
  const spec: LeafSpec = {
    env: options.env,
    service: options.service,
    kind,
    dns: [...new Set((options.dns ?? []).map(checkDns))],
    ip: [...new Set((options.ip ?? []).map(checkIp))],
    ttlSeconds: options.ttlSeconds ?? defaultTtl(kind),
  };
  const nowMs = options.now ?? Date.now();
  if (options.csrPem !== undefined) {
    const publicKey = await csrPublicKey(options.csrPem);
    const minted = await mintLeaf(ks, ca, spec, publicKey, { operation: "ca.issue", context: { keySource: "csr" } }, nowMs);
    return { ...minted, kind, keyPem: null };
  }
  const keys = await generateEcKeys();
  const minted = await mintLeaf(ks, ca, spec, keys.publicKey, { operation: "ca.issue" }, nowMs);
  const der = await exportPkcs8(keys.privateKey);
  try {
    return { ...minted, kind, keyPem: pkcs8Pem(der) };
  } finally {
    der.fill(0);
  }
}

/**
 * The public key of a PEM CSR after its self-signature verifies (PKCS#10, RFC 2986 §4.2).
 * Accepts ECDSA P-256/P-384, RSA ≥ 2048 bits and Ed25519 keys.
 * @throws UsageError(CERT_MALFORMED) for a malformed CSR or a bad signature; UsageError(INVALID_ARGUMENT) for a weak or unsupported key.
 */
export async function csrPublicKey(csrPem: string): Promise<x509.PublicKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const blocks = x509.PemConverter.decodeWithHeaders(String(csrPem)).filter((b) => b.type === "CERTIFICATE REQUEST" || b.type === "NEW CERTIFICATE REQUEST");
    if (blocks.length !== 1) throw new Error(`expected one CERTIFICATE REQUEST block, found ${blocks.length}`);
    csr = new x509.Pkcs10CertificateRequest(blocks[0].rawData);
    void csr.publicKey.rawData; // parse the key now so a broken one is reported as malformed
  } catch (e) {
    throw new UsageError("CERT_MALFORMED", "the CSR is not a valid PEM certificate request", { cause: e });
  }
  let key;
  try {
    key = publicKeyObject(csr.publicKey);
  } catch (e) {
    throw new UsageError("CERT_MALFORMED", "the CSR's public key is malformed", { cause: e });
  }
  const details = key.asymmetricKeyDetails ?? {};
  const ok =
    (key.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1"].includes(details.namedCurve ?? "")) ||
    (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048) ||
    key.asymmetricKeyType === "ed25519";
  if (!ok) throw new UsageError("INVALID_ARGUMENT", "the CSR's key must be ECDSA P-256/P-384, RSA of at least 2048 bits, or Ed25519");
  let verified: boolean;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw new UsageError("CERT_MALFORMED", "the CSR's signature does not verify");
  return csr.publicKey;
}
