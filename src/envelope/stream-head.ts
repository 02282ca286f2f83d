/**
 * Reads exact byte counts from the front of an async byte stream, then hands back the
 * rest, so a header can be parsed from stdin or a pipe without knowing its length first.
 */
export class Pull {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Uint8Array>;
  private done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Ensures at least `n` bytes are buffered (fewer only at end of stream) and returns the buffer. */
  async peek(n: number): Promise<Buffer> {
    while (this.buffered.length < n && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else this.buffered = Buffer.concat([this.buffered, next.value]);
    }
    return this.buffered;
  }

  /** Drops `n` already-buffered bytes. */
  skip(n: number): void {
    this.buffered = this.buffered.subarray(n);
  }

  /** The unread remainder of the stream. */
  async *rest(): AsyncGenerator<Buffer> {
    if (this.buffered.length) yield this.buffered;
    this.buffered = Buffer.alloc(0);
    if (this.done) return;
    for (;;) {
      const next = await this.iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }
}
