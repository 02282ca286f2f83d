/**
 * The cryptography of per-subject keys. Internal.
 *
 *   namespace root R  32 random bytes, stored only wrapped by the keystore key `subjects/<ns>`
 *   index key         HKDF-SHA-256(R, info = "pipeseal-subjects-v1 index" || ns)      (RFC 5869)
 *   wrapping key      HKDF-SHA-256(R, info = "pipeseal-subjects-v1 wrap"  || ns)
 *   subject ref       HMAC-SHA-256(index key, subject id UTF-8)[0..16]             (RFC 2104 §5 truncation)
 *   subject secret S  32 random bytes per (subject, version)
 *   stored secret     AES-256-GCM(wrapping key, S, AAD = "pipeseal-subject-v1" || u16 len(ns) || ns || ref || u32 version)
 *   subject key       HKDF-SHA-256(S, info = "pipeseal-subject-key-v1" || u16 len(ns) || ns || u16 len(purpose) || purpose)
 *
 * The ref is a keyed pseudonym: without the keystore it reveals nothing about the subject id;
 * a 16-byte truncation keeps collisions negligible (birthday bound 2^64 subjects). The wrapping
 * key takes one random-IV GCM seal per subject version, far below the 2^32 limit of
 * NIST SP 800-38D §8.3 for any realistic namespace (documented in docs/rag.md).
 */
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { gcmOpen, gcmSeal } from "../../crypto/aes-gcm.js";
import { KeystoreError } from "../../errors.js";

export const ROOT_BYTES = 32;
export const SECRET_BYTES = 32;
export const REF_BYTES = 16;
const EMPTY = Buffer.alloc(0);

function lp16(text: string): Buffer {
  const b = Buffer.from(text, "utf8");
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function hkdf(ikm: Uint8Array, info: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", ikm, EMPTY, info, 32));
}

export function newRoot(): Buffer {
  return randomBytes(ROOT_BYTES);
}

export function newSecret(): Buffer {
  return randomBytes(SECRET_BYTES);
}

/** The two namespace sub-keys; the caller wipes them. */
export function namespaceKeys(root: Uint8Array, ns: string): { indexKey: Buffer; wrapKey: Buffer } {
  return {
    indexKey: hkdf(root, Buffer.concat([Buffer.from("pipeseal-subjects-v1 index", "utf8"), lp16(ns)])),
    wrapKey: hkdf(root, Buffer.concat([Buffer.from("pipeseal-subjects-v1 wrap", "utf8"), lp16(ns)])),
  };
}

export function subjectRef(indexKey: Buffer, subjectId: string): Buffer {
  return createHmac("sha256", indexKey).update(subjectId, "utf8").digest().subarray(0, REF_BYTES);
}

function secretAad(ns: string, ref: Buffer, version: number): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version);
  return Buffer.concat([Buffer.from("pipeseal-subject-v1", "utf8"), lp16(ns), ref, v]);
}

export function sealSecret(wrapKey: Buffer, ns: string, ref: Buffer, version: number, secret: Buffer): Buffer {
  return gcmSeal(wrapKey, secret, secretAad(ns, ref, version));
}

/** @throws KeystoreError(KEYSTORE_CORRUPT) if the stored secret does not authenticate (tampered or moved row). */
export function openSecret(wrapKey: Buffer, ns: string, ref: Buffer, version: number, blob: Buffer): Buffer {
  try {
    return gcmOpen(wrapKey, blob, secretAad(ns, ref, version));
  } catch {
    throw new KeystoreError("KEYSTORE_CORRUPT", `the stored secret of subject ${keyIdOf(ns, ref)} v${version} does not authenticate`);
  }
}

/** The subject's key for one purpose; the caller wipes it. */
export function deriveSubjectKey(secret: Buffer, ns: string, purpose: string): Buffer {
  return hkdf(secret, Buffer.concat([Buffer.from("pipeseal-subject-key-v1", "utf8"), lp16(ns), lp16(purpose)]));
}

export function keyIdOf(ns: string, ref: Buffer): string {
  return `${ns}:${ref.toString("base64url")}`;
}

/** Parses `<namespace>:<ref>`; null if malformed. */
export function parseKeyId(keyId: string): { ns: string; ref: Buffer } | null {
  const m = /^([a-z0-9][a-z0-9_-]{0,63}):([A-Za-z0-9_-]{22})$/.exec(typeof keyId === "string" ? keyId : "");
  if (m === null) return null;
  const ref = Buffer.from(m[2], "base64url");
  return ref.length === REF_BYTES ? { ns: m[1], ref } : null;
}
