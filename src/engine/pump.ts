/**
 * The overlapped pipeline: reads, segment work and the consumer's writes all run at once,
 * so the main thread only moves buffers. One read is in flight at a time (reads are
 * sequential, as a pipe demands); up to `depth` batches are sealed or opened on the thread
 * pool; the consumer takes results in order. A batch is final when the read after it finds
 * the end of the input, so finality never needs the input's size (stdin works as a file does).
 *
 * Buffers are recycled (fresh memory costs the kernel a page fault and a zeroing per 4 KiB,
 * which measured as half of AES-GCM's speed here): a yielded buffer is valid only until the
 * consumer asks for the next one, so pump is for consumers that write and forget (the CLI,
 * writeAtomic), never for callers that keep chunks. Memory is bounded: at most depth + 2
 * input and depth + 1 output buffers, whatever the input size. Every buffer is wiped at the
 * end (they held plaintext), and nothing after a failed batch is yielded.
 */
import type { ByteSource } from "./io.js";

export interface PumpStep {
  /** Bytes of input per batch (whole segments). */
  readonly inBytes: number;
  /** Capacity of an output buffer for a full batch. */
  readonly outBytes: number;
  /** Seals or opens batch `index` (`input` may be short only when `final`) into `out`, or into a buffer of its own. */
  run(input: Buffer, index: number, final: boolean, out: Buffer): Promise<Buffer>;
}

class BufferPool {
  private readonly free: Buffer[] = [];
  readonly all: Buffer[] = [];
  constructor(private readonly size: number) {}
  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.all.push(fresh);
    return fresh;
  }
  put(b: Buffer): void {
    this.free.push(b);
  }
  wipe(): void {
    for (const b of this.all) b.fill(0);
  }
}

/** A one-shot wake-up: `wait()` resolves at the next `signal()`. */
class Signal {
  private resolve: (() => void) | undefined;
  wait(): Promise<void> {
    return new Promise((r) => (this.resolve = r));
  }
  signal(): void {
    const r = this.resolve;
    this.resolve = undefined;
    r?.();
  }
}

interface Done {
  readonly result: Buffer;
  readonly out: Buffer;
}

/**
 * Yields the step's output for every batch of `source`, in order. `prefix` (bytes already
 * read from the source, e.g. past a header) starts the first batch.
 */
export async function* pump(source: ByteSource, step: PumpStep, depth: number, prefix: Buffer = Buffer.alloc(0)): AsyncGenerator<Buffer> {
  if (prefix.length > step.inBytes) throw new RangeError("prefix longer than a batch");
  const inPool = new BufferPool(step.inBytes);
  const outPool = new BufferPool(step.outBytes);
  const queue: Promise<Done>[] = [];
  const pushed = new Signal();
  const room = new Signal();
  let stopped = false;
  let readerDone = false;
  let readerError: unknown;

  const fill = async (buf: Buffer, from: number): Promise<number> => from + (from < buf.length ? await source.read(from ? buf.subarray(from) : buf) : 0);

  const reader = async (): Promise<void> => {
    let cur = inPool.take();
    let n = await fill(cur, prefix.copy(cur));
    for (let index = 0; !stopped; index++) {
      let final = n < step.inBytes;
      let next: Buffer | undefined;
      let m = 0;
      if (!final) {
        next = inPool.take();
        m = await source.read(next);
        if (m === 0) {
          final = true; // the input ended exactly at a batch boundary
          inPool.put(next);
          next = undefined;
        }
      }
      while (queue.length >= depth && !stopped) await room.wait();
      if (stopped) return;
      const input = cur;
      const out = outPool.take();
      const job = step.run(input.subarray(0, n), index, final, out).then(
        (result) => {
          inPool.put(input);
          return { result, out };
        },
        (e: unknown) => {
          inPool.put(input);
          outPool.put(out);
          throw e;
        },
      );
      job.catch(() => undefined); // observed by the consumer; avoids an unhandled rejection meanwhile
      queue.push(job);
      pushed.signal();
      if (final) return;
      cur = next!;
      n = m;
    }
  };

  const task = reader().then(
    () => undefined,
    (e: unknown) => {
      readerError = e;
    },
  ).finally(() => {
    readerDone = true;
    pushed.signal();
  });

  try {
    for (;;) {
      while (queue.length === 0 && !readerDone) await pushed.wait();
      if (readerError !== undefined) throw readerError;
      const head = queue[0];
      if (!head) break;
      const { result, out } = await head;
      queue.shift();
      room.signal();
      yield result;
      if (result.buffer === out.buffer) outPool.put(out);
    }
  } finally {
    stopped = true;
    room.signal();
    await task;
    await Promise.allSettled(queue); // the thread pool may still hold buffers of failed or abandoned batches
    inPool.wipe();
    outPool.wipe();
  }
}
