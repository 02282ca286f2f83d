/**
 * Cuts a byte stream into batches of whole segments, holding one batch back so that the
 * batch with the stream's last segment is known to be final. Batching amortises the
 * per-call cost of the cipher and lets batches run on worker threads.
 */
import type { Batch } from "../engine/types.js";

export type { Batch };

export async function* batches(source: AsyncIterable<Uint8Array>, segmentSize: number, segmentsPerBatch: number): AsyncGenerator<Batch> {
  const batchBytes = segmentSize * segmentsPerBatch;
  const queue = new ChunkQueue();
  let position = 0;
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    queue.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    // strictly more than one batch pending: the batch is not the last, so none of its segments is final
    while (queue.length > batchBytes) {
      yield { data: queue.take(batchBytes), first: position, count: segmentsPerBatch, final: false };
      position += segmentsPerBatch;
    }
  }
  const rest = queue.take(queue.length);
  yield { data: rest, first: position, count: Math.max(1, Math.ceil(rest.length / segmentSize)), final: true };
}

/** A FIFO of byte chunks that hands out exact-sized pieces, copying only when a piece spans chunks. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const head = this.chunks[0];
    let out: Buffer;
    if (head && head.length >= n) {
      out = head.subarray(0, n);
      if (head.length === n) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      for (let o = 0; o < n;) {
        const c = this.chunks[0];
        const used = c.copy(out, o, 0, Math.min(c.length, n - o));
        o += used;
        if (used === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(used);
      }
    }
    this.length -= n;
    return out;
  }
}
