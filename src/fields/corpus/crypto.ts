/**
 * The cryptography of a corpus. Internal.
 *
 *   corpus root R   32 random bytes, stored only wrapped by the keystore key (context corpus=<name>)
 *   data key        HKDF-SHA-256(R, info = "pipeseal-corpus-v1 data"  || name)        (RFC 5869)
 *   index key       HKDF-SHA-256(R, info = "pipeseal-corpus-v1 index" || name)
 *   tag key         HKDF-SHA-256(R, info = "pipeseal-corpus-v1 tag"   || name)
 *   id ref          HMAC-SHA-256(index key, chunk id)[0..16]
 *   blind index     HMAC-SHA-256(tag key, u16 len(field) || field || canonical JSON of value)[0..16]
 *   sealed field    AES-256-GCM(data key or subject key, value,
 *                     AAD = "pipeseal-corpus-v1" || u16 len(name) || name || u16 len(locator) || locator || u16 len(field) || field)
 *                   locator = the chunk id, or the id ref (hex) for the sealed id itself
 *
 * The AAD binds corpus, chunk and field, so a ciphertext moved to another corpus, chunk or
 * field does not open. Blind indexes are deterministic by design (equal values give equal
 * tags, which is what lets `WHERE` filter on them) and so leak equality and frequency of a
 * filter field's values to whoever reads corpus.db, nothing more without the tag key.
 */
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { gcmOpen, gcmSeal } from "../../crypto/aes-gcm.js";
import { FieldError } from "../errors.js";
import { parseKeyId } from "../subjects/derive.js";

const EMPTY = Buffer.alloc(0);
export const REF_BYTES = 16;

export function lp16(text: string | Buffer): Buffer {
  const b = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function newRoot(): Buffer {
  return randomBytes(32);
}

export interface CorpusKeys {
  readonly dataKey: Buffer;
  readonly indexKey: Buffer;
  readonly tagKey: Buffer;
}

export function corpusKeys(root: Uint8Array, name: string): CorpusKeys {
  const derive = (label: string) =>
    Buffer.from(hkdfSync("sha256", root, EMPTY, Buffer.concat([Buffer.from(`pipeseal-corpus-v1 ${label}`, "utf8"), lp16(name)]), 32));
  return { dataKey: derive("data"), indexKey: derive("index"), tagKey: derive("tag") };
}

export function wipeKeys(keys: CorpusKeys): void {
  keys.dataKey.fill(0);
  keys.indexKey.fill(0);
  keys.tagKey.fill(0);
}

export function idRef(indexKey: Buffer, id: string): Buffer {
  return createHmac("sha256", indexKey).update(id, "utf8").digest().subarray(0, REF_BYTES);
}

export function blindIndex(tagKey: Buffer, field: string, value: string | number | boolean): Buffer {
  return createHmac("sha256", tagKey).update(lp16(field)).update(JSON.stringify(value), "utf8").digest().subarray(0, REF_BYTES);
}

export function fieldAad(name: string, locator: string, field: string): Buffer {
  return Buffer.concat([Buffer.from("pipeseal-corpus-v1", "utf8"), lp16(name), lp16(locator), lp16(field)]);
}

export function sealField(key: Buffer, name: string, locator: string, field: string, plaintext: Uint8Array): Buffer {
  return gcmSeal(key, plaintext, fieldAad(name, locator, field));
}

/**
 * @throws FieldError(FIELD_MALFORMED) for a stored value too short to be iv ‖ ciphertext ‖ tag;
 *   DecryptError when it does not authenticate
 */
export function openField(key: Buffer, name: string, locator: string, field: string, sealed: Uint8Array): Buffer {
  if (sealed.length < 12 + 16) throw new FieldError("FIELD_MALFORMED", `a stored chunk's sealed ${field} is malformed (shorter than iv and tag)`);
  return gcmOpen(key, sealed, fieldAad(name, locator, field));
}

/** A stored subject reference (`<namespace>:<ref>`, version ≥ 1). @throws FieldError(FIELD_MALFORMED) */
export function checkSubjectRef(keyId: unknown, version: unknown): void {
  if (typeof keyId !== "string" || parseKeyId(keyId) === null || !Number.isSafeInteger(version) || (version as number) < 1) {
    throw new FieldError("FIELD_MALFORMED", "a stored chunk's subject key reference is malformed");
  }
}

/** Float32 little-endian bytes of a stored vector. @throws FieldError(FIELD_MALFORMED) for a length that is not 4·n */
export function storedVector(b: Buffer): Float32Array {
  if (b.length % 4 !== 0) throw new FieldError("FIELD_MALFORMED", "a stored chunk's vector is malformed (not whole float32 values)");
  return decodeVector(b);
}

/** Float32 little-endian: 4 bytes per dimension. */
export function encodeVector(v: readonly number[]): Buffer {
  const out = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeFloatLE(v[i], i * 4);
  return out;
}

export function decodeVector(b: Buffer): Float32Array {
  const copy = new Float32Array(b.length / 4);
  for (let i = 0; i < copy.length; i++) copy[i] = b.readFloatLE(i * 4);
  return copy;
}
