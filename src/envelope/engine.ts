import type { FloeState } from "../crypto/floe.js";
import type { Batch } from "./batches.js";
import { decryptBatch, encryptBatch } from "./transform.js";

/** Where batch work runs: on this thread, or on a pool of worker threads. */
export interface SegmentEngine {
  encrypt(state: FloeState, batch: Batch): Promise<Buffer>;
  decrypt(state: FloeState, batch: Batch): Promise<Buffer>;
  /** How many batches may be in flight at once. */
  readonly depth: number;
}

/** Runs on the calling thread; the reference path. */
export const inlineEngine: SegmentEngine = {
  encrypt: async (state, batch) => encryptBatch(state, batch),
  decrypt: async (state, batch) => decryptBatch(state, batch),
  depth: 1,
};

/**
 * Runs up to `depth` batches at once and yields their results in order. Stops at the
 * first failure: nothing after a failed batch is yielded.
 */
export async function* ordered(source: AsyncIterable<Batch>, run: (b: Batch) => Promise<Buffer>, depth: number): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  try {
    for await (const batch of source) {
      const p = run(batch);
      p.catch(() => undefined); // observed when awaited below; avoids an unhandled rejection meanwhile
      inFlight.push(p);
      if (inFlight.length >= depth) yield await inFlight.shift()!;
    }
    while (inFlight.length) yield await inFlight.shift()!;
  } finally {
    inFlight.length = 0;
  }
}
