/**
 * Sealing one secret value under its own random data key (DEK).
 *
 * The DEK is wrapped by the keystore (AES-256-GCM under the namespace's KEK, with the
 * context below as associated data), so reading a value is an audited unwrap. The value is
 * sealed with AES-256-GCM (NIST SP 800-38D) under a key derived from the DEK, with a key
 * commitment stored beside it, following the committing suite of the AWS Encryption SDK
 * (HKDF-SHA-256 from the data key to an encryption key and a 32-byte commitment, RFC 5869;
 * the commitment is checked in constant time before decryption), so a sealed value opens
 * under exactly one DEK. The context (secret name and version) is in the HKDF info and in
 * the GCM associated data: a sealed value or wrapped DEK copied to another row or version
 * does not open.
 *
 * Layout of `sealed`: commitment (32) || iv (12) || ciphertext || tag (16).
 */
import { hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { gcmOpen, gcmSeal } from "../crypto/aes-gcm.js";
import { DecryptError } from "../errors.js";
import { encodeContext } from "../keys/context.js";
import type { EncryptionContext } from "../keys/keyring.js";

const LABEL = "pipeseal-secret-v1";
const COMMIT_BYTES = 32;

/** The encryption context of one secret version: bound to the wrap and to the value. */
export function secretContext(name: string, version: number): EncryptionContext {
  return { purpose: "secret", secret: name, version: String(version) };
}

export function newDataKey(): Buffer {
  return randomBytes(32);
}

function derive(dek: Uint8Array, context: EncryptionContext): { key: Buffer; commit: Buffer; aad: Buffer } {
  const aad = Buffer.concat([Buffer.from(LABEL), encodeContext(context)]);
  const key = Buffer.from(hkdfSync("sha256", dek, Buffer.alloc(0), Buffer.concat([Buffer.from(`${LABEL} key`), aad]), 32));
  const commit = Buffer.from(hkdfSync("sha256", dek, Buffer.alloc(0), Buffer.concat([Buffer.from(`${LABEL} commit`), aad]), COMMIT_BYTES));
  return { key, commit, aad };
}

export function sealValue(dek: Uint8Array, value: Uint8Array, context: EncryptionContext): Buffer {
  const { key, commit, aad } = derive(dek, context);
  try {
    return Buffer.concat([commit, gcmSeal(key, value, aad)]);
  } finally {
    key.fill(0);
  }
}

/** @throws DecryptError (opaque) for a wrong DEK, context or a damaged value. */
export function openValue(dek: Uint8Array, sealed: Uint8Array, context: EncryptionContext): Buffer {
  if (sealed.length < COMMIT_BYTES) throw new DecryptError();
  const { key, commit, aad } = derive(dek, context);
  try {
    if (!timingSafeEqual(commit, Buffer.from(sealed.buffer, sealed.byteOffset, COMMIT_BYTES))) throw new DecryptError();
    return gcmOpen(key, sealed.subarray(COMMIT_BYTES), aad);
  } finally {
    key.fill(0);
  }
}
