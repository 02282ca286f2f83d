/**
 * X.509 helpers for the CA: algorithms, serials, PEM parsing with typed errors. All X.509
 * building and parsing goes through @peculiar/x509 (via ../x509.js); no hand-written ASN.1
 * except the one-INTEGER CRL number (see crl.ts).
 */
import { createPublicKey, randomBytes, webcrypto } from "node:crypto";
import { UsageError } from "../../errors.js";
import { x509 } from "../x509.js";

/** ECDSA P-256 with SHA-256 (RFC 5758 §3.2) for every CA and generated leaf key. */
export const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
export const EC_SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

/** Clock-skew allowance: notBefore is backdated by this much, at most 1/12 of the lifetime. */
export const MAX_BACKDATE_SECONDS = 300;

/**
 * A fresh serial: 16 random bytes (RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B
 * BR §7.1 asks for ≥ 64 bits of randomness). The first byte is 0x10..0x7f so the hex form
 * is the DER value as is (no sign byte, no leading zero nibble): 32 hex digits, always.
 */
export function newSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + (b[0] % 0x70);
  return b.toString("hex");
}

/**
 * Accepts `0A:1b:…` or `0a1b…` (as openssl and node print serials); returns lowercase hex of
 * whole bytes without separators or leading zero bytes (the form the registry stores).
 */
export function normalizeSerial(input: string): string {
  let hex = String(input).trim().replace(/:/g, "").toLowerCase();
  if (!/^[0-9a-f]{1,42}$/.test(hex)) throw new UsageError("INVALID_ARGUMENT", `"${String(input).slice(0, 60)}" is not a certificate serial (hex)`);
  if (hex.length % 2) hex = "0" + hex;
  while (hex.length > 2 && hex.startsWith("00")) hex = hex.slice(2);
  return hex;
}

export async function generateEcKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
}

/** PKCS#8 DER of a private key; the caller wipes it. */
export async function exportPkcs8(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
}

export function pkcs8Pem(der: Uint8Array): string {
  return x509.PemConverter.encode(new Uint8Array(der), "PRIVATE KEY");
}

/**
 * Parses one or more PEM certificates (leaf first).
 * @throws UsageError(CERT_MALFORMED) if the text holds no certificate or an unparsable one.
 */
export function parseCertificates(pem: string, what = "certificate"): x509.X509Certificate[] {
  let certs: x509.X509Certificate[];
  try {
    const blocks = x509.PemConverter.decodeWithHeaders(pem).filter((b) => b.type === "CERTIFICATE");
    certs = blocks.map((b) => new x509.X509Certificate(b.rawData));
  } catch (e) {
    throw new UsageError("CERT_MALFORMED", `the ${what} is not a valid PEM certificate`, { cause: e });
  }
  if (certs.length === 0) throw new UsageError("CERT_MALFORMED", `the ${what} holds no PEM certificate`);
  return certs;
}

/** SPKI DER of a certificate's or CSR's public key, as node sees it. */
export function spkiDer(pub: x509.PublicKey): Buffer {
  return Buffer.from(pub.rawData);
}

/** Node KeyObject for a public key in an X.509 structure (for algorithm checks and comparisons). */
export function publicKeyObject(pub: x509.PublicKey) {
  return createPublicKey({ key: spkiDer(pub), format: "der", type: "spki" });
}

/** Hex serial of a parsed certificate, normalized. */
export function serialOf(cert: x509.X509Certificate): string {
  return normalizeSerial(cert.serialNumber);
}

/** notBefore backdate for a lifetime (seconds). */
export function backdateSeconds(ttlSeconds: number): number {
  return Math.min(MAX_BACKDATE_SECONDS, Math.floor(ttlSeconds / 12));
}

/** X.509 times have whole seconds (RFC 5280 §4.1.2.5); round down so stored and encoded agree. */
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
