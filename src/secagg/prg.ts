/**
 * The mask PRG (Bonawitz et al. CCS 2017 §3.4): AES-256-CTR under a 32-byte key with a zero
 * counter block, keystream read as little-endian uint32 words. Each key is derived once per
 * round and purpose (keys.ts), so the zero IV never repeats under a key.
 */
import { createCipheriv } from "node:crypto";
import { endianness } from "node:os";

const ZERO_IV = Buffer.alloc(16);
const LITTLE = endianness() === "LE";
let zeros = Buffer.alloc(0);

/** `dim` uint32 words of AES-256-CTR keystream. */
export function prg(key: Uint8Array, dim: number): Uint32Array {
  const bytes = dim * 4;
  if (zeros.length < bytes) zeros = Buffer.alloc(bytes);
  const stream = createCipheriv("aes-256-ctr", key, ZERO_IV).update(zeros.subarray(0, bytes));
  if (LITTLE && stream.byteOffset % 4 === 0) return new Uint32Array(stream.buffer, stream.byteOffset, dim);
  const out = new Uint32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = stream.readUInt32LE(i * 4);
  return out;
}

/** acc += PRG(key) mod 2^32 (a Uint32Array store wraps modulo 2^32). */
export function addMask(acc: Uint32Array, key: Uint8Array): void {
  const m = prg(key, acc.length);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + m[i];
}

/** acc −= PRG(key) mod 2^32. */
export function subMask(acc: Uint32Array, key: Uint8Array): void {
  const m = prg(key, acc.length);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i] - m[i];
}

/** acc += v mod 2^32. */
export function addInto(acc: Uint32Array, v: Uint32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + v[i];
}

/** Little-endian bytes of a word vector (the wire form of a masked vector). */
export function wordsToBytes(v: Uint32Array): Buffer {
  if (LITTLE) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const b = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) b.writeUInt32LE(v[i], i * 4);
  return b;
}

export function bytesToWords(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.length / 4);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = buf.readUInt32LE(i * 4);
  return out;
}
