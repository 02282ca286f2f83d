import { open, type FileHandle } from "node:fs/promises";
import { SEGMENT_OVERHEAD, type FloeState } from "../crypto/floe.js";
import { DecryptError, FormatError, UsageError } from "../errors.js";
import type { Keyring } from "../keys/keyring.js";
import { PRELUDE_LEN, decodeHeader, fixedPartLength, headerLength, type SealedHeader } from "./header.js";
import { openBatch } from "../engine/index.js";
import { type Unlocked, unlockForUse, wipeState } from "./unlock.js";

/** Largest slice one `readStream` step decrypts, so long ranges stream in bounded memory. */
const STREAM_STEP = 1024 * 1024;

/**
 * Random access to a sealed file: reads decrypt only the segments they touch.
 * Opening authenticates the final segment, so `plaintextLength` is proven, and a file
 * truncated at a segment boundary fails to open rather than looking shorter.
 *
 * Audit: opening is one `range-read` unwrap (its "ok" record says the key was released). A
 * range given to `open` is checked against the plaintext length first, so an out-of-range
 * request unwraps nothing; a read that then fails (out of range, a segment that does not
 * authenticate, a final segment that does not) writes a second `range-read` record, outcome
 * "error" with the code (docs/keyservice.md, "What an outcome means").
 */
export interface OpenSealedFileOptions {
  /** The range the caller will read: refused (RANGE_OUT_OF_BOUNDS) before any key is unwrapped. */
  readonly range?: { readonly offset: number; readonly length: number };
}

export class SealedFileReader {
  private scratch: Buffer | undefined;
  private constructor(
    private readonly handle: FileHandle,
    private readonly unlocked: Unlocked,
    private state: FloeState | undefined,
    readonly header: SealedHeader,
    readonly segmentCount: number,
    readonly plaintextLength: number,
  ) {}

  /**
   * @throws FormatError, KeyError, AuditError, DecryptError.
   * @example
   * const r = await SealedFileReader.open(keystore, "data.csv.pseal");
   * const slice = await r.read(1 << 20, 65536); await r.close();
   */
  static async open(keyring: Keyring, path: string, options: OpenSealedFileOptions = {}): Promise<SealedFileReader> {
    const handle = await open(path, "r");
    try {
      const size = (await handle.stat()).size;
      const header = decodeHeader(await readHeaderBytes(handle, size));
      const body = size - header.length;
      const segmentCount = Math.max(1, Math.ceil(body / header.encSegLen));
      const finalLength = body - (segmentCount - 1) * header.encSegLen;
      if (finalLength < SEGMENT_OVERHEAD) throw new DecryptError(); // truncated or empty body
      const plaintextLength = (segmentCount - 1) * (header.encSegLen - SEGMENT_OVERHEAD) + finalLength - SEGMENT_OVERHEAD;
      if (options.range) checkRange(options.range.offset, options.range.length, plaintextLength); // no key for a range that cannot be served
      const unlocked = await unlockForUse(keyring, header, { operation: "range-read", path });
      const reader = new SealedFileReader(handle, unlocked, unlocked.state, header, segmentCount, plaintextLength);
      try {
        (await reader.segments(segmentCount - 1, segmentCount - 1)).fill(0);
      } catch (e) {
        await unlocked.failed(e);
        await reader.close();
        throw e;
      }
      return reader;
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
  }

  /** Plaintext bytes [offset, offset + length). @throws UsageError(RANGE_OUT_OF_BOUNDS), DecryptError. */
  async read(offset: number, length: number): Promise<Buffer> {
    if (!this.state) throw new UsageError("INVALID_ARGUMENT", "the reader is closed");
    try {
      return await this.readRange(offset, length);
    } catch (e) {
      await this.unlocked.failed(e);
      throw e;
    }
  }

  private async readRange(offset: number, length: number): Promise<Buffer> {
    checkRange(offset, length, this.plaintextLength);
    if (length === 0) return Buffer.alloc(0);
    const plain = this.header.encSegLen - SEGMENT_OVERHEAD;
    const first = Math.floor(offset / plain);
    const last = Math.floor((offset + length - 1) / plain);
    const data = await this.segments(first, last);
    const start = offset - first * plain;
    // hand back a view rather than a copy; wipe the decrypted bytes outside the range
    data.fill(0, 0, start);
    data.fill(0, start + length);
    return data.subarray(start, start + length);
  }

  /** The same range as a stream of at most 1 MiB pieces. */
  async *readStream(offset: number, length: number): AsyncGenerator<Buffer> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.plaintextLength)
      await this.read(offset, length); // throws (and records) the typed error
    for (let done = 0; done < length;) {
      const step = Math.min(STREAM_STEP, length - done);
      yield await this.read(offset + done, step);
      done += step;
    }
  }

  /** Wipes the derived keys and closes the file. */
  async close(): Promise<void> {
    if (this.state) wipeState(this.state);
    this.state = undefined;
    await this.handle.close();
  }

  private async segments(first: number, last: number): Promise<Buffer> {
    if (!this.state) throw new UsageError("INVALID_ARGUMENT", "the reader is closed");
    const seg = this.header.encSegLen;
    const start = this.header.length + first * seg;
    const isFinal = last === this.segmentCount - 1;
    const length = isFinal ? (last - first) * seg + this.finalSegmentLength() : (last - first + 1) * seg;
    // ciphertext only, so one scratch buffer is reused while no other read holds it (fresh memory costs page faults)
    const scratch = this.scratch && this.scratch.length >= length ? this.scratch : Buffer.allocUnsafeSlow(Math.max(length, 2 * seg));
    this.scratch = undefined;
    try {
      const bytes = scratch.subarray(0, length);
      const { bytesRead } = await this.handle.read(bytes, 0, length, start);
      if (bytesRead !== length) throw new DecryptError(); // the file shrank under us
      // the engine in use (native or reference); small reads run on this thread, large ones on the pool
      return await openBatch(this.state, { data: bytes, first, count: last - first + 1, final: isFinal });
    } finally {
      this.scratch = scratch;
    }
  }

  private finalSegmentLength(): number {
    const plain = this.header.encSegLen - SEGMENT_OVERHEAD;
    return this.plaintextLength - (this.segmentCount - 1) * plain + SEGMENT_OVERHEAD;
  }
}

/** @throws UsageError(RANGE_OUT_OF_BOUNDS) unless [offset, offset + length) lies inside the plaintext. */
function checkRange(offset: number, length: number, plaintextLength: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > plaintextLength) {
    throw new UsageError("RANGE_OUT_OF_BOUNDS", `range ${offset}:${length} lies outside the plaintext (${plaintextLength} bytes)`);
  }
}

/** Reads just enough of the file to hold the whole header, checking lengths before trusting them. */
async function readHeaderBytes(handle: FileHandle, size: number): Promise<Buffer> {
  const readAt = async (n: number): Promise<Buffer> => {
    if (n > size)
      throw new FormatError(
        size < PRELUDE_LEN ? "NOT_SEALED" : "MALFORMED_HEADER",
        size < PRELUDE_LEN ? "not a pipeseal sealed file (too short)" : "header truncated",
      );
    const b = Buffer.alloc(n);
    await handle.read(b, 0, n, 0);
    return b;
  };
  const fixed = fixedPartLength(await readAt(PRELUDE_LEN));
  return readAt(headerLength(await readAt(fixed + 4)));
}

/** Opens a sealed file for random-access reads (see SealedFileReader). */
export const openSealedFile = (keyring: Keyring, path: string, options: OpenSealedFileOptions = {}): Promise<SealedFileReader> =>
  SealedFileReader.open(keyring, path, options);
