/**
 * The reference engine's segment work for one batch, over node:crypto: pure, synchronous,
 * and the same on the main thread and in a worker. Every faster path (the worker pool, the
 * native addon) must give the same bytes (test/engine/agreement.test.ts).
 */
import { randomBytes } from "node:crypto";
import { SEGMENT_IV_LEN, SEGMENT_OVERHEAD, decryptSegment, encryptSegmentInto, type FloeState } from "../crypto/floe.js";
import { DecryptError } from "../errors.js";
import type { Batch } from "./types.js";

/**
 * Encrypts a batch of plaintext segments into FLOE segments. `ivs` (count × 12 bytes, the
 * segments' random AEAD IVs, spec: aead_iv = RND(AEAD_IV_LEN)) is drawn here in one call
 * unless given; only the agreement tests give it, to compare engines byte for byte.
 */
export function encryptBatch(state: FloeState, batch: Batch, ivs: Uint8Array = randomBytes(batch.count * SEGMENT_IV_LEN), into?: Buffer): Buffer {
  const plain = state.encSegLen - SEGMENT_OVERHEAD;
  const size = batch.data.length + batch.count * SEGMENT_OVERHEAD;
  // `into` (the pump's recycled buffer) when it is large enough, so a long stream does not leave a fresh buffer per batch to the GC
  const out = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  if (ivs.length < batch.count * SEGMENT_IV_LEN) throw new RangeError("one 12-byte IV per segment is needed");
  let o = 0;
  for (let i = 0; i < batch.count; i++) {
    const isFinal = batch.final && i === batch.count - 1;
    const pt = batch.data.subarray(i * plain, isFinal ? batch.data.length : (i + 1) * plain);
    o += encryptSegmentInto(state, pt, batch.first + i, isFinal, out, o, ivs.subarray(i * SEGMENT_IV_LEN, (i + 1) * SEGMENT_IV_LEN));
  }
  return out;
}

/**
 * Decrypts a batch of FLOE segments. The batch is verified whole before any of it is
 * returned, so a caller never sees plaintext from a batch that failed.
 */
export function decryptBatch(state: FloeState, batch: Batch, into?: Buffer): Buffer {
  const seg = state.encSegLen;
  if (batch.final && batch.data.length === 0) throw new DecryptError(); // no final segment: truncated
  const size = Math.max(0, batch.data.length - batch.count * SEGMENT_OVERHEAD);
  const out = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  let o = 0;
  try {
    for (let i = 0; i < batch.count; i++) {
      const isFinal = batch.final && i === batch.count - 1;
      const ct = batch.data.subarray(i * seg, isFinal ? batch.data.length : (i + 1) * seg);
      const pt = decryptSegment(state, ct, batch.first + i, isFinal);
      o += pt.copy(out, o);
      pt.fill(0); // the batch's copy is the only plaintext left
    }
  } catch (e) {
    out.fill(0);
    throw e;
  }
  return out;
}
