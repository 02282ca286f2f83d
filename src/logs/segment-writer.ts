/**
 * One open segment: records go through `sealStream` straight into a temp file, which is
 * fsynced and renamed to its final name only on `close()` (writeAtomic). Plaintext is
 * held in memory only (at most one cipher batch, 1 MiB) and never reaches the disk.
 */
import path from "node:path";
import { decodeHeader } from "../envelope/header.js";
import { sealStream } from "../envelope/seal.js";
import { writeAtomic } from "../io/atomic.js";
import type { EncryptionContext, Keyring } from "../keys/keyring.js";

/** A push-fed async iterable: the bridge from `write()` calls to the seal pipeline. */
class Feed implements AsyncIterable<Buffer> {
  #items: Buffer[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  push(b: Buffer): void {
    this.#items.push(b);
    this.#wake?.();
  }
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const next = this.#items.shift();
      if (next) yield next;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

export class SegmentWriter {
  bytes = 0;
  records = 0;

  private constructor(
    readonly path: string,
    readonly keyVersion: number,
    readonly openedAt: number,
    readonly bucketStart: number,
    private readonly feed: Feed,
    private readonly done: Promise<number>,
  ) {}

  /**
   * Starts a segment: wraps a fresh data key under `keyName`'s primary version and waits
   * until the header has been produced, so the key version in use is known.
   * @throws KeyError/AuditError from the keyring.
   */
  static async open(
    keyring: Keyring,
    target: string,
    keyName: string,
    context: EncryptionContext,
    openedAt: number,
    bucketStart: number,
    segmentSize?: number,
  ): Promise<SegmentWriter> {
    const feed = new Feed();
    let sawHeader!: (version: number) => void;
    const header = new Promise<number>((resolve) => (sawHeader = resolve));
    async function* tapped(): AsyncGenerator<Buffer> {
      let first = true;
      for await (const chunk of sealStream(keyring, feed, { keyName, context, ...(segmentSize ? { segmentSize } : {}) })) {
        if (first) sawHeader(decodeHeader(chunk).wrappedKeys[0].keyVersion);
        first = false;
        yield chunk;
      }
    }
    const done = writeAtomic(target, tapped(), 0o644);
    done.catch(() => undefined); // surfaced by close(); not an unhandled rejection meanwhile
    const version = await Promise.race([header, done.then(() => 0)]);
    return new SegmentWriter(target, version, openedAt, bucketStart, feed, done);
  }

  get name(): string {
    return path.basename(this.path);
  }

  push(line: Buffer): void {
    this.feed.push(line);
    this.bytes += line.length;
    this.records++;
  }

  /** Seals the last segment, fsyncs, renames into place. @returns sealed bytes written. */
  async close(): Promise<number> {
    this.feed.end();
    return this.done;
  }
}
