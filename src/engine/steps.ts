/**
 * The pump's seal and open steps for one FLOE message: batch `index` holds segments
 * [index × perBatch, …). With the addon, the segment work writes straight into the pump's
 * recycled output buffer on the thread pool; with the reference engine it runs on the
 * calling thread (node:crypto) and returns a buffer of its own.
 */
import { randomBytes } from "node:crypto";
import { SEGMENT_IV_LEN, SEGMENT_OVERHEAD, type FloeState } from "../crypto/floe.js";
import { batchArgs, typedError } from "./fast.js";
import { nativeAddon } from "./native.js";
import type { PumpStep } from "./pump.js";
import { decryptBatch, encryptBatch } from "./reference.js";

/** Plaintext bytes per pump batch: large enough that a thread-pool hop is noise, small enough for the RSS target. */
export const PUMP_BATCH_BYTES = 4 * 1024 * 1024;

/** Segments per batch for a segment length, so a batch carries about PUMP_BATCH_BYTES of plaintext. */
export function segmentsPerBatch(encSegLen: number, batchBytes = PUMP_BATCH_BYTES): number {
  return Math.max(1, Math.floor(batchBytes / (encSegLen - SEGMENT_OVERHEAD)));
}

function count(length: number, unit: number, final: boolean, perBatch: number): number {
  return final ? Math.max(1, Math.ceil(length / unit)) : perBatch;
}

export function sealStep(state: FloeState, perBatch = segmentsPerBatch(state.encSegLen)): PumpStep {
  const plain = state.encSegLen - SEGMENT_OVERHEAD;
  const addon = nativeAddon();
  return {
    inBytes: perBatch * plain,
    outBytes: perBatch * state.encSegLen,
    async run(input, index, final, out) {
      const batch = { data: input, first: index * perBatch, count: count(input.length, plain, final, perBatch), final };
      if (!addon) return encryptBatch(state, batch, undefined, out);
      const ivs = randomBytes(batch.count * SEGMENT_IV_LEN); // node:crypto draws every random IV
      try {
        const n = await addon.seal(...batchArgs(state, batch), out, ivs);
        return out.subarray(0, n);
      } catch (e) {
        throw typedError(e);
      }
    },
  };
}

export function openStep(state: FloeState, perBatch = segmentsPerBatch(state.encSegLen)): PumpStep {
  const plain = state.encSegLen - SEGMENT_OVERHEAD;
  const addon = nativeAddon();
  return {
    inBytes: perBatch * state.encSegLen,
    outBytes: perBatch * plain,
    async run(input, index, final, out) {
      const batch = { data: input, first: index * perBatch, count: count(input.length, state.encSegLen, final, perBatch), final };
      if (!addon) return decryptBatch(state, batch, out);
      try {
        const n = await addon.open(...batchArgs(state, batch), out);
        return out.subarray(0, n);
      } catch (e) {
        throw typedError(e);
      }
    },
  };
}
