/**
 * KEKs at rest: 32 random bytes per key version, encrypted under the master-derived
 * KEK-encryption key with AES-256-GCM (NIST SP 800-38D), a random 12-byte IV, and AAD
 * binding the key name and version, so a blob copied to another row does not open.
 *
 *   blob = iv(12) || ciphertext(32) || tag(16)
 *   AAD  = "pipeseal-kek-v1" || u16 BE len || keyName (UTF-8) || u32 BE version
 */
import { randomBytes } from "node:crypto";
import { gcmOpen, gcmSeal } from "../crypto/aes-gcm.js";
import { KeystoreError } from "../errors.js";

const LABEL = Buffer.from("pipeseal-kek-v1", "utf8");
export const KEK_BYTES = 32;
export const KEK_BLOB_BYTES = 12 + KEK_BYTES + 16;

export function generateKek(): Buffer {
  return randomBytes(KEK_BYTES);
}

/** The AAD of a sealed KEK (also of one sealed by an HSM root key, keys/pkcs11/root-key.ts). Pinned by test/keys/kek-aad-kat.test.ts. */
export function kekAad(keyName: string, version: number): Buffer {
  const name = Buffer.from(keyName, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(name.length);
  const ver = Buffer.alloc(4);
  ver.writeUInt32BE(version);
  return Buffer.concat([LABEL, len, name, ver]);
}

/** Encrypts a KEK for storage. */
export function sealKek(encKey: Buffer, keyName: string, version: number, kek: Buffer): Buffer {
  return gcmSeal(encKey, kek, kekAad(keyName, version));
}

/**
 * Decrypts a stored KEK. The caller wipes the result.
 * @throws KeystoreError(KEYSTORE_CORRUPT) if the blob does not authenticate (tampered row or wrong master key).
 */
export function openKek(encKey: Buffer, keyName: string, version: number, blob: Buffer): Buffer {
  if (blob.length !== KEK_BLOB_BYTES) throw corrupt(keyName, version);
  try {
    return gcmOpen(encKey, blob, kekAad(keyName, version));
  } catch {
    throw corrupt(keyName, version);
  }
}

function corrupt(keyName: string, version: number): KeystoreError {
  return new KeystoreError("KEYSTORE_CORRUPT", `the stored KEK of ${keyName} v${version} does not authenticate`);
}
