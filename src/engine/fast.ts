/**
 * The native engine: FLOE batches sealed and opened by the addon (native.ts) on the libuv
 * thread pool, so both cores work while the main thread only moves buffers. Same contract
 * and same bytes as the reference engine (reference.ts); the agreement tests hold it to that.
 */
import { randomBytes } from "node:crypto";
import { getSystemErrorName } from "node:util";
import { SEGMENT_IV_LEN, SEGMENT_OVERHEAD, type FloeState } from "../crypto/floe.js";
import { DecryptError, PipesealError } from "../errors.js";
import type { BatchArgs, NativeAddon } from "./native.js";
import type { Batch, SegmentEngine } from "./types.js";

/** Below this many bytes a batch runs on the calling thread: a thread-pool hop would cost more than the work. */
export const SYNC_BELOW = 256 * 1024;

/** The addon's errors as pipeseal's: DECRYPT_FAILED stays opaque; misuse is a RangeError; I/O errors look like fs errors. */
export function typedError(e: unknown, syscall = "read"): Error {
  const err = e as { code?: unknown; errno?: unknown; message?: string };
  if (err?.code === "DECRYPT_FAILED") return new DecryptError();
  if (err?.code === "ERR_OUT_OF_RANGE") return new RangeError(err.message ?? "out of range");
  if (err?.code === "EIO" && typeof err.errno === "number") {
    const name = getSystemErrorName(-err.errno);
    return Object.assign(new Error(`${name}: ${syscall} failed`), { code: name, errno: -err.errno, syscall });
  }
  return new PipesealError("ENGINE_FAILED", `the native crypto engine failed: ${err?.message ?? String(e)}`);
}

function sealArgs(batch: Batch, ivs: Uint8Array | undefined) {
  const iv = ivs ?? randomBytes(batch.count * SEGMENT_IV_LEN); // node:crypto draws every random IV
  const out = Buffer.allocUnsafe(batch.data.length + batch.count * SEGMENT_OVERHEAD);
  return { iv, out };
}

/** The addon's leading arguments for `batch` of the file `state` describes. */
export function batchArgs(state: FloeState, batch: Batch): BatchArgs {
  return [state.messageKey, state.iv, state.aad, state.encSegLen, state.rotationMask, batch.first, batch.count, batch.final, batch.data];
}

function openOut(batch: Batch): Buffer {
  return Buffer.allocUnsafe(Math.max(0, batch.data.length - batch.count * SEGMENT_OVERHEAD));
}

/** Seals a batch on the calling thread. `ivs` only from the agreement tests. */
export function nativeSealSync(addon: NativeAddon, state: FloeState, batch: Batch, ivs?: Uint8Array): Buffer {
  const { iv, out } = sealArgs(batch, ivs);
  try {
    const n = addon.sealSync(...batchArgs(state, batch), out, iv);
    return out.subarray(0, n);
  } catch (e) {
    throw typedError(e);
  }
}

/** Opens a batch on the calling thread; plaintext only if every segment authenticates. */
export function nativeOpenSync(addon: NativeAddon, state: FloeState, batch: Batch): Buffer {
  const out = openOut(batch);
  try {
    const n = addon.openSync(...batchArgs(state, batch), out);
    return out.subarray(0, n);
  } catch (e) {
    throw typedError(e);
  }
}

export async function nativeSeal(addon: NativeAddon, state: FloeState, batch: Batch, ivs?: Uint8Array): Promise<Buffer> {
  if (batch.data.length < SYNC_BELOW) return nativeSealSync(addon, state, batch, ivs);
  const { iv, out } = sealArgs(batch, ivs);
  try {
    const n = await addon.seal(...batchArgs(state, batch), out, iv);
    return out.subarray(0, n);
  } catch (e) {
    throw typedError(e);
  }
}

export async function nativeOpen(addon: NativeAddon, state: FloeState, batch: Batch): Promise<Buffer> {
  if (batch.data.length < SYNC_BELOW) return nativeOpenSync(addon, state, batch);
  const out = openOut(batch);
  try {
    const n = await addon.open(...batchArgs(state, batch), out);
    return out.subarray(0, n);
  } catch (e) {
    throw typedError(e);
  }
}

/** Bytes of plaintext per batch: 4 MiB keeps the per-call cost (a thread-pool hop) under 2% of the work. */
export const NATIVE_BATCH_BYTES = 4 * 1024 * 1024;

/** A SegmentEngine over the addon: up to `depth` batches at once on the thread pool (libuv's 4 threads, both cores here). */
export function nativeEngine(addon: NativeAddon, depth = 4): SegmentEngine {
  return {
    encrypt: (state, batch) => nativeSeal(addon, state, batch),
    decrypt: (state, batch) => nativeOpen(addon, state, batch),
    depth,
    batchBytes: NATIVE_BATCH_BYTES,
    name: "native",
  };
}
