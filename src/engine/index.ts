/**
 * The segment engine pipeseal uses: native (the system's OpenSSL through the addon) when it
 * loads, else the reference (node:crypto). One choice per process, in one place, so the CLI,
 * the library's stream and file functions, the random-access reader (decrypt --range, the
 * gateway) and the registry pull all run on the same engine.
 * PIPESEAL_ENGINE=reference forces the reference engine.
 */
import type { FloeState } from "../crypto/floe.js";
import { decryptBatch, encryptBatch } from "./reference.js";
import { nativeEngine, nativeOpen, nativeOpenSync } from "./fast.js";
import { loadStatus, nativeAddon } from "./native.js";
import type { Batch, SegmentEngine } from "./types.js";

export type { Batch, SegmentEngine } from "./types.js";

/** The reference engine on the calling thread (node:crypto). */
export const referenceEngine: SegmentEngine = {
  encrypt: async (state, batch) => encryptBatch(state, batch),
  decrypt: async (state, batch) => decryptBatch(state, batch),
  depth: 1,
  name: "reference",
};

let selected: SegmentEngine | undefined;

/** The engine in use: native when the addon loaded, else the reference. */
export function segmentEngine(): SegmentEngine {
  if (selected) return selected;
  const addon = nativeAddon();
  selected = addon ? nativeEngine(addon) : referenceEngine;
  return selected;
}

/** What `pipeseal --version` prints about the engine, e.g. "native (OpenSSL 3.0.22 …)". */
export function engineDescription(): string {
  const { addon, reason } = loadStatus();
  return addon ? `native (${addon.openssl})` : `reference (node:crypto, OpenSSL ${process.versions.openssl}; ${reason})`;
}

/**
 * One line for stderr when the native engine was wanted but is not available, once per
 * process; undefined when there is nothing to say (native in use, or reference asked for).
 */
let told = false;
export function engineNotice(): string | undefined {
  const { addon, reason, forced } = loadStatus();
  if (addon || forced || told) return undefined;
  told = true;
  return `pipeseal: note: using the reference crypto engine (node:crypto): ${reason}`;
}

/** Opens a batch with the engine in use, on the calling thread (small random-access reads). */
export function openBatchSync(state: FloeState, batch: Batch): Buffer {
  const addon = nativeAddon();
  return addon ? nativeOpenSync(addon, state, batch) : decryptBatch(state, batch);
}

/** Opens a batch with the engine in use; large batches run on the thread pool. */
export function openBatch(state: FloeState, batch: Batch): Promise<Buffer> {
  const addon = nativeAddon();
  return addon ? nativeOpen(addon, state, batch) : Promise.resolve().then(() => decryptBatch(state, batch));
}
