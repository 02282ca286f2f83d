import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { DecryptError } from "../errors.js";

export const GCM_KEY_LEN = 32;
export const GCM_IV_LEN = 12;
export const GCM_TAG_LEN = 16;

/**
 * AES-256-GCM (NIST SP 800-38D) with a random 96-bit IV. Returns iv || ciphertext || tag.
 * Random IVs cap a key at 2^32 encryptions (SP 800-38D §8.3); callers that reuse a key
 * that often must count (the keystore does).
 */
export function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const iv = randomBytes(GCM_IV_LEN);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/**
 * Opens iv || ciphertext || tag. Any failure (short input, bad tag) is one opaque DecryptError.
 * Plaintext is released only after the tag verifies.
 */
export function gcmOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < GCM_IV_LEN + GCM_TAG_LEN) throw new DecryptError();
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  return gcmDecrypt(key, buf.subarray(0, GCM_IV_LEN), buf.subarray(GCM_IV_LEN, buf.length - GCM_TAG_LEN), buf.subarray(buf.length - GCM_TAG_LEN), aad);
}

/**
 * AES-256-GCM decryption of separate parts. The plaintext is wiped and a DecryptError
 * thrown unless the tag verifies (SP 800-38D §7.2: no output before verification).
 */
export function gcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_LEN });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const out = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    out.fill(0);
    throw new DecryptError();
  }
  return out;
}
