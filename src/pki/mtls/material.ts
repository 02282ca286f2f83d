/**
 * Certificate material for mTLS: the three files `pipeseal ca issue` writes per service
 * (`cert.pem` = leaf + issuing chain, `key.pem`, `ca.pem` = root), read and checked before
 * they reach OpenSSL so a bad file is a typed error, not an opaque handshake failure.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { PipesealError, UsageError } from "../../errors.js";

/** PEM text of a service's certificate chain, private key and trusted root(s). */
export interface CertMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Where certificates come from: a cert dir (watched for renewal) or PEM given inline. */
export type CertSource = { readonly certDir: string } | { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca: string | Buffer };

/** File names inside a cert dir, as `pipeseal ca issue --out` writes them. */
export const CERT_FILES = { cert: "cert.pem", key: "key.pem", ca: "ca.pem" } as const;

export function certPaths(dir: string): { cert: string; key: string; ca: string } {
  return { cert: join(dir, CERT_FILES.cert), key: join(dir, CERT_FILES.key), ca: join(dir, CERT_FILES.ca) };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle, parsed. @throws PipesealError(CERT_MALFORMED) */
export function parseCertBundle(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new PipesealError("CERT_MALFORMED", `${what}: no PEM certificate found`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (e) {
      throw new PipesealError("CERT_MALFORMED", `${what}: certificate ${i + 1} is not valid X.509`, { cause: e });
    }
  });
}

/**
 * Checks that the chain parses, the key parses and belongs to the leaf, and the root parses.
 * @throws PipesealError(CERT_MALFORMED)
 */
export function checkMaterial(m: CertMaterial): X509Certificate {
  const [leaf] = parseCertBundle(m.cert, "certificate chain");
  parseCertBundle(m.ca, "CA bundle");
  let key;
  try {
    key = createPrivateKey(m.key);
  } catch (e) {
    throw new PipesealError("CERT_MALFORMED", "private key: not a valid PEM private key", { cause: e });
  }
  if (!leaf.checkPrivateKey(key)) throw new PipesealError("CERT_MALFORMED", "private key does not belong to the certificate");
  try {
    // what OpenSSL will be given: catches PEM framing node's parser forgives (e.g. two
    // blocks without a newline between them)
    createSecureContext({ cert: m.cert, key: m.key, ca: m.ca });
  } catch (e) {
    throw new PipesealError("CERT_MALFORMED", `certificate material rejected by OpenSSL: ${(e as Error).message}`, { cause: e });
  }
  return leaf;
}

/**
 * Checks a CRL bundle parses (OpenSSL is the judge) and returns it with the RFC 7468 §5
 * label: some tools (including @peculiar/x509) write `BEGIN CRL`, which OpenSSL refuses.
 * @throws PipesealError(CERT_MALFORMED)
 */
export function checkCrl(crl: string | Buffer): string {
  const text = crl.toString().replace(/-----(BEGIN|END) CRL-----/g, "-----$1 X509 CRL-----");
  if (!text.includes("-----BEGIN X509 CRL-----")) throw new PipesealError("CERT_MALFORMED", "crl: no PEM X509 CRL found");
  try {
    createSecureContext({ crl: text });
  } catch (e) {
    throw new PipesealError("CERT_MALFORMED", "crl: not a valid X.509 CRL", { cause: e });
  }
  return text;
}

function readPem(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new PipesealError("CERT_NOT_FOUND", `cannot read ${path}`, { cause: e });
  }
}

/**
 * Reads and checks the material of a source.
 * @throws PipesealError(CERT_NOT_FOUND) for a missing file, (CERT_MALFORMED) for a bad one,
 *   UsageError(INVALID_ARGUMENT) for a source with neither a dir nor PEM.
 */
export function loadMaterial(source: CertSource): CertMaterial {
  let m: CertMaterial;
  if ("certDir" in source && typeof source.certDir === "string") {
    const p = certPaths(source.certDir);
    m = { cert: readPem(p.cert), key: readPem(p.key), ca: readPem(p.ca) };
  } else if ("cert" in source && source.cert && source.key && source.ca) {
    m = { cert: source.cert.toString(), key: source.key.toString(), ca: source.ca.toString() };
  } else {
    throw new UsageError("INVALID_ARGUMENT", "give either certDir or cert, key and ca");
  }
  checkMaterial(m);
  return m;
}
