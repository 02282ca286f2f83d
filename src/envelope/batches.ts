/**
 * Cuts a byte stream into batches of whole segments, holding one batch back so that the
 * batch with the stream's last segment is known to be final. Batching amortises the
 * per-call cost of the cipher and lets batches run on worker threads.
 */
export interface Batch {
  /** Concatenated segments: `count - 1` full ones and, if `final`, a last one of any allowed length. */
  readonly data: Buffer;
  /** Position of the first segment in the message. */
  readonly first: number;
  readonly count: number;
  /** True for the batch holding the message's last segment. */
  readonly final: boolean;
}

export async function* batches(source: AsyncIterable<Uint8Array>, segmentSize: number, segmentsPerBatch: number): AsyncGenerator<Batch> {
  const batchBytes = segmentSize * segmentsPerBatch;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = 0;
  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    pendingBytes += chunk.length;
    // strictly more than one batch pending: the batch is not the last, so none of its segments is final
    while (pendingBytes > batchBytes) {
      const all = Buffer.concat(pending, pendingBytes);
      yield { data: all.subarray(0, batchBytes), first: position, count: segmentsPerBatch, final: false };
      position += segmentsPerBatch;
      pending = [all.subarray(batchBytes)];
      pendingBytes -= batchBytes;
    }
  }
  const rest = Buffer.concat(pending, pendingBytes);
  const count = Math.max(1, Math.ceil(rest.length / segmentSize));
  yield { data: rest, first: position, count, final: true };
}
