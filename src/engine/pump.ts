/**
 * The overlapped pipeline: reads, segment work and the consumer's writes all run at once,
 * so the main thread only moves buffers. Up to `depth` batches are sealed or opened on the
 * thread pool; the consumer takes results in order.
 *
 * Two readers. A sequential one for pipes and stdin: one read in flight at a time, and a
 * batch is final when the read after it finds the end of the input. A positional one for
 * regular files (a source with `positional`): every batch is read at its own offset, so up
 * to `depth` reads run at once on the thread pool beside the segment work. One read at a
 * time measured as the bound here: sharing two cores with the sealing threads, the lone
 * reader got half a core and the whole pipeline ran at its speed. A positional batch reads
 * one byte past its end: that byte's absence makes it final, so finality is still found by
 * reading (a file that grows while sealed is read to its end, as a pipe is), never assumed
 * from the size; the size only bounds how far reads run ahead.
 *
 * Buffers are recycled (fresh memory costs the kernel a page fault and a zeroing per 4 KiB,
 * which measured as half of AES-GCM's speed here): a yielded buffer is valid only until the
 * consumer asks for the next one, so pump is for consumers that write and forget (the CLI,
 * writeAtomic), never for callers that keep chunks. Memory is bounded: at most depth + 2
 * input and depth + 1 output buffers, whatever the input size. Every buffer is wiped at the
 * end (they held plaintext), and nothing after a failed batch is yielded.
 */
import { PipesealError } from "../errors.js";
import type { ByteSource, PositionalSource } from "./io.js";

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
  private readonly written = new Map<Buffer, number>();
  /** Records that bytes [0, n) of `b` may hold data, so the final wipe covers them. */
  dirty(b: Buffer, n: number): void {
    this.written.set(b, Math.max(n, this.written.get(b) ?? 0));
  }
  /**
   * Zeroes what each buffer may hold: its written prefix, or all of it when nothing was
   * recorded. Only that prefix: filling a 4 MiB buffer of which a small input used a few
   * bytes faults in and zeroes pages that never held anything, 8 MiB per small file.
   */
  wipe(): void {
    for (const b of this.all) b.fill(0, 0, Math.min(b.length, this.written.get(b) ?? b.length));
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
  readonly final: boolean;
}

/** A positional read that found nothing: the batch lies past the input's end. */
const PAST_END: Done = { result: Buffer.alloc(0), out: Buffer.alloc(0), final: false };

/**
 * Yields the step's output for every batch of `source`, in order. `prefix` (bytes already
 * read from the source, e.g. past a header) starts the first batch.
 */
export async function* pump(source: ByteSource, step: PumpStep, depth: number, prefix: Buffer = Buffer.alloc(0)): AsyncGenerator<Buffer> {
  if (prefix.length > step.inBytes) throw new RangeError("prefix longer than a batch");
  const positional = source.positional;
  // a positional batch reads one byte past its end, to learn whether it is the last
  const inPool = new BufferPool(step.inBytes + (positional ? 1 : 0));
  const outPool = new BufferPool(step.outBytes);
  const queue: Promise<Done>[] = [];
  const pushed = new Signal();
  const room = new Signal();
  let stopped = false;
  let readerDone = false;
  let readerFailed: { error: unknown } | undefined; // boxed: a rejection with any value, even undefined, stops the pump

  /** Runs a read into `buf` from `from`, recording what it may have written (all of `buf` if it failed). */
  const readInto = async (buf: Buffer, from: number, read: () => Promise<number>): Promise<number> => {
    try {
      const n = await read();
      inPool.dirty(buf, from + n);
      return n;
    } catch (e) {
      inPool.dirty(buf, buf.length);
      throw e;
    }
  };

  const fill = async (buf: Buffer, from: number): Promise<number> =>
    from + (from < buf.length ? await readInto(buf, from, () => source.read(from ? buf.subarray(from) : buf)) : 0);

  /** Runs batch `index` on the thread pool once its input is in; the consumer awaits it in order. */
  const submit = (input: Buffer, n: number, index: number, final: boolean, out: Buffer): Promise<Done> =>
    step.run(input.subarray(0, n), index, final, out).then(
      (result) => {
        inPool.put(input);
        // a result of its own (the reference engine) says nothing of what `out` holds
        outPool.dirty(out, result.buffer === out.buffer ? result.byteOffset - out.byteOffset + result.length : out.length);
        return { result, out, final };
      },
      (e: unknown) => {
        inPool.put(input);
        outPool.dirty(out, out.length);
        outPool.put(out);
        throw e;
      },
    );

  const enqueue = (job: Promise<Done>): void => {
    job.catch(() => undefined); // observed by the consumer; avoids an unhandled rejection meanwhile
    queue.push(job);
    pushed.signal();
  };

  const sequential = async (): Promise<void> => {
    let cur = inPool.take();
    let n = await fill(cur, prefix.copy(cur));
    for (let index = 0; !stopped; index++) {
      let final = n < step.inBytes;
      let next: Buffer | undefined;
      let m = 0;
      if (!final) {
        next = inPool.take();
        const buf = next;
        m = await readInto(buf, 0, () => source.read(buf));
        if (m === 0) {
          final = true; // the input ended exactly at a batch boundary
          inPool.put(next);
          next = undefined;
        }
      }
      while (queue.length >= depth && !stopped) await room.wait();
      if (stopped) return;
      enqueue(submit(cur, n, index, final, outPool.take()));
      if (final) return;
      cur = next!;
      n = m;
    }
  };

  /**
   * Batch `index` covers bytes [index × inBytes, (index + 1) × inBytes) of prefix ++ the file
   * from `start`. Reads within the size the file had when opened are issued ahead (up to
   * `depth`); past it, a batch is read only once the one before it was found not final.
   */
  const positionalReader = async (at: PositionalSource): Promise<void> => {
    const start = at.offset();
    const fileAt = (logical: number): number => start + logical - prefix.length;
    const ahead = prefix.length + Math.max(0, at.size - start); // bytes the size promised
    let previous: Promise<number> | undefined;
    let end = Infinity; // index of the batch found final
    for (let index = 0; !stopped && index <= end; index++) {
      while (queue.length >= depth && !stopped) await room.wait();
      if (stopped) return;
      const from = index * step.inBytes;
      if (index > 0 && from >= ahead && (await previous!.catch(() => 0)) <= step.inBytes) return;
      if (index > end) return;
      const input = inPool.take();
      const read = (async () => {
        if (index > 0) return readInto(input, 0, () => at.readAt(input, fileAt(from)));
        const p = prefix.copy(input);
        inPool.dirty(input, p);
        return p + (await readInto(input, p, () => at.readAt(input.subarray(p), fileAt(p))));
      })();
      previous = read;
      const job = read.then(
        (n) => {
          if (n === 0 && index > 0) {
            inPool.put(input);
            return PAST_END;
          }
          const final = n <= step.inBytes;
          if (final) end = Math.min(end, index);
          return submit(input, Math.min(n, step.inBytes), index, final, outPool.take());
        },
        (e: unknown) => {
          inPool.put(input);
          throw e;
        },
      );
      enqueue(job);
    }
  };

  const reader = (): Promise<void> => (positional ? positionalReader(positional) : sequential());

  const task = reader()
    .then(
      () => undefined,
      (e: unknown) => {
        readerFailed = { error: e };
      },
    )
    .finally(() => {
      readerDone = true;
      pushed.signal();
    });

  try {
    for (;;) {
      while (queue.length === 0 && !readerDone) await pushed.wait();
      if (readerFailed !== undefined) throw readerFailed.error;
      if (queue.length === 0) break;
      const done = await queue[0];
      void queue.shift(); // the promise just awaited
      room.signal();
      // the batch before was read full and not final, then the file ended before this one: it got shorter while read
      if (done === PAST_END) throw new PipesealError("IO_ERROR", "the input file got shorter while it was being read");
      const { result, out, final } = done;
      yield result;
      if (result.buffer === out.buffer) outPool.put(out);
      if (final) break; // positional reads may have run ahead past the end
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
