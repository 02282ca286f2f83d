/**
 * Wrap format of the local keyring (docs/format.md §5 "Local key wrap"; v1 and v2 differ
 * only in the AAD's label and the object id that v2 appends).
 *
 * A 32-byte data key (DEK) is encrypted under one version of a named KEK with
 * AES-256-GCM (NIST SP 800-38D), a random 96-bit IV and a 128-bit tag:
 *
 *   wrapped = iv(12) || ciphertext(32) || tag(16)                       (60 bytes)
 *   AAD     = "pipeseal-wrap-v1"                                        (16 bytes, ASCII)
 *          || u8 len || keyring id (UTF-8)                              ("local")
 *          || u16 BE len || key name (UTF-8)
 *          || u32 BE key version
 *          || encodeContext(context)                                    (context.ts)
 *
 * The WrappedKey entry carries keyring, keyName and keyVersion in clear; all three are in
 * the AAD, so editing any of them (or the context) makes the unwrap fail authentication.
 *
 * Limits: with random IVs, SP 800-38D §8.3 allows at most 2^32 invocations per key; the
 * keystore counts wraps per KEK version in the same transaction that reserves the use and
 * refuses more with KEY_USAGE_LIMIT (rotate the key). Unwraps do not count.
 *
 * Security guarantees: confidentiality and integrity of the DEK, bound to keyring, key
 * name, version and context. Authentication failures are opaque (DecryptError).
 */
import { gcmOpen, gcmSeal } from "../crypto/aes-gcm.js";
import { DecryptError, UsageError } from "../errors.js";
import { encodeContext } from "./context.js";
import type { EncryptionContext } from "./keyring.js";

const LABEL = Buffer.from("pipeseal-wrap-v1", "utf8");
const LABEL_V2 = Buffer.from("pipeseal-wrap-v2", "utf8");
export const DATA_KEY_BYTES = 32;
export const WRAPPED_BYTES = 12 + DATA_KEY_BYTES + 16;
/** NIST SP 800-38D §8.3: at most 2^32 GCM invocations with random IVs per key. */
export const MAX_WRAPS_PER_VERSION = 2 ** 32;

/**
 * The AAD above; with `objectId` (a sealed file v2 entry, docs/format.md §5) the v2 AAD:
 * label "pipeseal-wrap-v2", the same fields, then the file's 32-byte object id, so the wrap
 * opens only for the one file it was made for.
 * Throws UsageError(INVALID_ARGUMENT) on an invalid context or object id.
 */
export function wrapAad(keyringId: string, keyName: string, version: number, context: EncryptionContext, objectId?: Uint8Array): Buffer {
  if (objectId !== undefined && !(objectId instanceof Uint8Array && objectId.length === 32))
    throw new UsageError("INVALID_ARGUMENT", "an object id is 32 bytes");
  const id = Buffer.from(keyringId, "utf8");
  const name = Buffer.from(keyName, "utf8");
  if (id.length > 255 || name.length > 65535) throw new UsageError("INVALID_ARGUMENT", "keyring id or key name too long");
  const nameLen = Buffer.alloc(2);
  nameLen.writeUInt16BE(name.length);
  const ver = Buffer.alloc(4);
  ver.writeUInt32BE(version);
  const fields = [Buffer.of(id.length), id, nameLen, name, ver, encodeContext(context)];
  return objectId === undefined ? Buffer.concat([LABEL, ...fields]) : Buffer.concat([LABEL_V2, ...fields, objectId]);
}

export function sealDataKey(kek: Buffer, aad: Buffer, dataKey: Uint8Array): Buffer {
  if (dataKey.length !== DATA_KEY_BYTES) throw new UsageError("INVALID_ARGUMENT", `a data key must be ${DATA_KEY_BYTES} bytes`);
  return gcmSeal(kek, dataKey, aad);
}

/** @throws DecryptError on any authentication failure or malformed input. */
export function openDataKey(kek: Buffer, aad: Buffer, wrapped: Uint8Array): Buffer {
  if (wrapped.length !== WRAPPED_BYTES) throw new DecryptError();
  return gcmOpen(kek, wrapped, aad);
}
