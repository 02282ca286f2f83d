/** Loads the probe's trust store (--ca) and client certificate (--cert dir/). */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../errors.js";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function read(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError("CERT_MALFORMED", `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`, { cause: e });
  }
}

function parseCerts(text: string, file: string): string[] {
  const pems = text.match(PEM_CERT) ?? [];
  if (pems.length === 0) throw new UsageError("CERT_MALFORMED", `${file} holds no PEM certificate`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new UsageError("CERT_MALFORMED", `${file} holds a certificate that does not parse`, { cause: e });
    }
  }
  return pems;
}

/** PEM certificates to trust. @throws UsageError(CERT_MALFORMED) if unreadable or holding no certificate. */
export function loadTrustStore(file: string): string[] {
  return parseCerts(read(file, "CA file"), file);
}

/**
 * `cert.pem` (leaf first, then any intermediates) and `key.pem` from a folder.
 * @throws UsageError(CERT_MALFORMED) if either is missing, malformed, or they do not belong together.
 */
export function loadClientCert(dir: string): { cert: string; key: string } {
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  const cert = parseCerts(read(certFile, "client certificate"), certFile).join("\n");
  const key = read(keyFile, "client key");
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    throw new UsageError("CERT_MALFORMED", `${keyFile} is not a readable private key`, { cause: e });
  }
  if (!matches) throw new UsageError("CERT_MALFORMED", `${keyFile} is not the key of ${certFile}`);
  return { cert, key };
}
