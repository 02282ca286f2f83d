/** `initCa`: a root CA and an issuing CA, their keys sealed in the keystore. */
import { KeyError, UsageError, isPipesealError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { spiffeId } from "../identity.js";
import { x509 } from "../x509.js";
import { CA_KEY_NAME, insertCa, readCa, sealCaKey, toCaInfo } from "./store.js";
import type { CaInfo } from "./types.js";
import { EC_SIGN, MAX_BACKDATE_SECONDS, exportPkcs8, generateEcKeys, newSerial, wholeSeconds } from "./x509-util.js";

const DAY = 86_400;
/** Root lifetime: about ten years. */
export const ROOT_LIFETIME_SECONDS = 3650 * DAY;
/** Issuing CA lifetime: about one year. */
export const ISSUING_LIFETIME_SECONDS = 365 * DAY;
export const DEFAULT_MAX_TTL_SECONDS = 720 * 3600;
export const DEFAULT_TRUST_DOMAIN = "pipeseal.internal";
export const DEFAULT_CA_NAME = "pipeseal";

export interface InitCaOptions {
  /** Shown in the CA subjects ("<name> Root CA"). Default "pipeseal". */
  readonly name?: string;
  /** SPIFFE trust domain of every identity this CA issues. Default "pipeseal.internal". */
  readonly trustDomain?: string;
  /** Longest leaf lifetime `issueCertificate` accepts (seconds). Default 720 h. */
  readonly maxTtlSeconds?: number;
  /** Clock in epoch ms (tests). */
  readonly now?: number;
}

/**
 * Creates the CA: a root (ECDSA P-256, ~10 years, pathLen 1) and an issuing CA (~1 year,
 * pathLen 0) signed by the root. Creates the keystore key `pki/ca` if missing and seals both
 * private keys under it; stores the certificates and the sealed keys in keystore.db with the
 * `ca.init` audit record in the same transaction. No private key is written to any file.
 * @example const ca = await initCa(ks, { name: "acme ML", trustDomain: "acme.ml" });
 * @throws KeyError(CA_EXISTS) if the keystore already has a CA; UsageError(INVALID_ARGUMENT)
 *   for a bad name, trust domain or maximum TTL; AuditError if the audit record cannot be written.
 */
export async function initCa(ks: LocalKeystore, options: InitCaOptions = {}): Promise<CaInfo> {
  const name = options.name ?? DEFAULT_CA_NAME;
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (typeof name !== "string" || !/^[\p{L}\p{N} ._-]{1,64}$/u.test(name)) {
    throw new UsageError("INVALID_ARGUMENT", "the CA name must be 1-64 letters, digits, spaces or . _ -");
  }
  spiffeId({ trustDomain, env: "env", service: "service" }); // validates the trust domain
  if (!Number.isSafeInteger(maxTtl) || maxTtl < 1 || maxTtl > ISSUING_LIFETIME_SECONDS / 2) {
    throw new UsageError(
      "INVALID_ARGUMENT",
      `the maximum TTL must be between 1 s and ${ISSUING_LIFETIME_SECONDS / 2 / DAY} days (half the issuing CA's lifetime)`,
    );
  }
  if (ks.readTables(readCa) !== null) throw new KeyError("CA_EXISTS");
  ensureCaKey(ks);

  const nowMs = options.now ?? Date.now();
  const notBefore = wholeSeconds(nowMs - MAX_BACKDATE_SECONDS * 1000);
  const rootKeys = await generateEcKeys();
  const issuingKeys = await generateEcKeys();
  const rootName: x509.JsonName = [{ CN: [`${name} Root CA`] }, { O: [name] }];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: rootName,
    notBefore,
    notAfter: wholeSeconds(nowMs + ROOT_LIFETIME_SECONDS * 1000),
    keys: rootKeys,
    signingAlgorithm: EC_SIGN,
    extensions: [
      // RFC 5280 §4.2.1.9: CA, at most one CA below it (the issuing CA)
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const issuing = await x509.X509CertificateGenerator.create({
    serialNumber: newSerial(),
    subject: [{ CN: [`${name} Issuing CA`] }, { O: [name] }],
    issuer: root.subjectName,
    notBefore,
    notAfter: wholeSeconds(nowMs + ISSUING_LIFETIME_SECONDS * 1000),
    publicKey: issuingKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: EC_SIGN,
    extensions: [
      // pathLen 0: it issues leaves only
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(issuingKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });

  const rootDer = await exportPkcs8(rootKeys.privateKey);
  const issuingDer = await exportPkcs8(issuingKeys.privateKey);
  let rootSealed: Buffer, issuingSealed: Buffer;
  try {
    rootSealed = await sealCaKey(ks, CA_KEY_NAME, "root", rootDer);
    issuingSealed = await sealCaKey(ks, CA_KEY_NAME, "issuing", issuingDer);
  } finally {
    rootDer.fill(0);
    issuingDer.fill(0);
  }
  const row = {
    name,
    trust_domain: trustDomain,
    max_ttl_seconds: maxTtl,
    key_name: CA_KEY_NAME,
    root_cert: root.toString("pem"),
    root_key: rootSealed,
    issuing_cert: issuing.toString("pem"),
    issuing_key: issuingSealed,
    crl_number: 0,
    created_at: nowMs,
  };
  const event = {
    operation: "ca.init",
    keyName: CA_KEY_NAME,
    objectPath: `spiffe://${trustDomain}`,
    context: { name, rootSerial: root.serialNumber.toLowerCase(), issuingSerial: issuing.serialNumber.toLowerCase() },
  };
  ks.auditedChange(event, (db) => {
    if (readCa(db) !== null) throw new KeyError("CA_EXISTS"); // a concurrent init won
    insertCa(db, row);
  });
  return toCaInfo(row);
}

/** Creates the `pki/ca` keystore key unless an earlier, interrupted init already did. */
function ensureCaKey(ks: LocalKeystore): void {
  try {
    ks.showKey(CA_KEY_NAME);
  } catch (e) {
    if (!isPipesealError(e) || e.code !== "KEY_NOT_FOUND") throw e;
    ks.createKey(CA_KEY_NAME);
  }
}
