import type { Batch, SegmentEngine } from "../engine/types.js";
import { referenceEngine } from "../engine/index.js";

export type { SegmentEngine };

/** Runs on the calling thread; the reference path (node:crypto). One definition: src/engine/index.ts. */
export const inlineEngine: SegmentEngine = referenceEngine;

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
