import { createHmac } from "node:crypto";

/**
 * HKDF-Expand (RFC 5869 §2.3) over HMAC from OpenSSL. node:crypto's `hkdf` always runs
 * Extract first, and FLOE (spec §Parameters, KDF = HKDF-EXPAND-SHA-384) needs Expand alone.
 * Checked against Wycheproof HKDF vectors (Extract done with HMAC, then this Expand).
 */
export function hkdfExpand(hash: "sha256" | "sha384" | "sha512", prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const hashLen = hash === "sha256" ? 32 : hash === "sha384" ? 48 : 64;
  if (!Number.isInteger(length) || length < 0 || length > 255 * hashLen) {
    throw new RangeError(`HKDF-Expand length must be 0..${255 * hashLen}`);
  }
  const out = Buffer.alloc(length);
  let previous = Buffer.alloc(0);
  let written = 0;
  // RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) || info || i)
  for (let i = 1; written < length; i++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Buffer.of(i)).digest();
    written += previous.copy(out, written);
  }
  previous.fill(0);
  return out;
}
