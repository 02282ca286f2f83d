/**
 * The small-payload ciphertext of /v1/encrypt (format "PSE1"):
 *
 *   "PSE1" || u16 BE len || key name || u32 BE key version || u8 len || wrapped data key
 *          || AES-256-GCM(data key, iv(12) || ciphertext || tag(16))
 *   AAD    = "pipeseal-payload-v1" || u16 BE len || key name || u32 BE version || encodeContext(context)
 *
 * A fresh 32-byte data key per payload (so the 2^32 GCM invocation bound of SP 800-38D §8.3
 * is never approached under one key), wrapped by the named key under the same context.
 * Key name and version are in the AAD as well as in the wrap's own AAD: editing either fails.
 */
import { gcmOpen, gcmSeal } from "../crypto/aes-gcm.js";
import { encodeContext } from "../keys/context.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { ServiceError } from "./errors.js";

const MAGIC = Buffer.from("PSE1");
const LABEL = Buffer.from("pipeseal-payload-v1");

export interface PayloadParts {
  readonly keyName: string;
  readonly keyVersion: number;
  readonly wrapped: Buffer;
  readonly sealed: Buffer;
}

function aad(keyName: string, version: number, context: EncryptionContext): Buffer {
  const name = Buffer.from(keyName);
  const head = Buffer.alloc(6);
  head.writeUInt16BE(name.length, 0);
  head.writeUInt32BE(version, 2);
  return Buffer.concat([LABEL, head.subarray(0, 2), name, head.subarray(2), encodeContext(context)]);
}

export function sealPayload(dataKey: Buffer, keyName: string, version: number, wrapped: Uint8Array, plaintext: Buffer, context: EncryptionContext): Buffer {
  const name = Buffer.from(keyName);
  const head = Buffer.alloc(7);
  head.writeUInt16BE(name.length, 0);
  head.writeUInt32BE(version, 2);
  head.writeUInt8(wrapped.length, 6);
  return Buffer.concat([MAGIC, head.subarray(0, 2), name, head.subarray(2, 7), wrapped, gcmSeal(dataKey, plaintext, aad(keyName, version, context))]);
}

/** @throws ServiceError(INVALID_ARGUMENT) when the structure is not a PSE1 ciphertext. */
export function parsePayload(blob: Buffer): PayloadParts {
  const bad = () => new ServiceError("INVALID_ARGUMENT", "not a /v1/encrypt ciphertext");
  if (blob.length < 4 + 2 || !blob.subarray(0, 4).equals(MAGIC)) throw bad();
  const nameLen = blob.readUInt16BE(4);
  let o = 6 + nameLen;
  if (blob.length < o + 5) throw bad();
  const keyName = blob.subarray(6, o).toString("utf8");
  const keyVersion = blob.readUInt32BE(o);
  const wLen = blob.readUInt8(o + 4);
  o += 5;
  if (blob.length < o + wLen + 28) throw bad();
  return { keyName, keyVersion, wrapped: blob.subarray(o, o + wLen), sealed: blob.subarray(o + wLen) };
}

/** @throws DecryptError when the payload does not authenticate. */
export function openPayload(dataKey: Buffer, parts: PayloadParts, context: EncryptionContext): Buffer {
  return gcmOpen(dataKey, parts.sealed, aad(parts.keyName, parts.keyVersion, context));
}
