/**
 * The direct pull path for objects in a folder registry: one pass over a sealed file that
 * decrypts it segment by segment, hashes the plaintext and writes it to an open file
 * descriptor, with large positional reads into one reused buffer and one `writev` per read
 * (no stream machinery, no re-chunking copies). Synchronous, so it runs as is on a worker
 * thread (`pull-worker.ts`: one object at a time per worker, objects in parallel).
 *
 * Same checks as `openStream` (the reference path, which `pullModel` uses for other stores
 * and small versions; a test checks the two agree): every segment authenticates (FLOE:
 * AES-256-GCM, bound to its position and finality) before its plaintext is hashed or written;
 * the message must end with a segment marked final, and no byte may follow it. Plaintext goes
 * only to the caller's file in the pull's private temp folder, which the caller deletes on
 * any failure. The caller checks the digest against the signed manifest and fsyncs.
 */
import { createHash } from "node:crypto";
import { fstatSync, readSync, writevSync } from "node:fs";
import { SEGMENT_OVERHEAD, wipeState, type FloeState } from "../../crypto/floe.js";
import { openBatchSync } from "../../engine/index.js";
import { PRELUDE_LEN, decodeHeader, fixedPartLength, headerLength, type SealedHeader } from "../../envelope/header.js";
import { DecryptError, FormatError } from "../../errors.js";

/** Bytes read per step (rounded down to whole segments; at least one segment). */
const READ_BYTES = 4 * 1024 * 1024;

/** Reads `length` bytes at `position` or throws (a sealed object that shrank is not authentic). */
function readExactly(fd: number, buf: Buffer, length: number, position: number): void {
  for (let off = 0; off < length;) {
    const n = readSync(fd, buf, off, length - off, position + off);
    if (n === 0) throw new DecryptError();
    off += n;
  }
}

/** Parses the header at the front of an open sealed file (lengths checked before they are trusted). */
export function readHeaderFd(fd: number): SealedHeader {
  const size = fstatSync(fd).size;
  const at = (n: number): Buffer => {
    if (n > size)
      throw new FormatError(
        size < PRELUDE_LEN ? "NOT_SEALED" : "MALFORMED_HEADER",
        size < PRELUDE_LEN ? "not a pipeseal sealed file (too short)" : "header truncated",
      );
    const b = Buffer.alloc(n);
    readExactly(fd, b, n, 0);
    return b;
  };
  const fixed = fixedPartLength(at(PRELUDE_LEN));
  return decodeHeader(at(headerLength(at(fixed + 4))));
}

/** writev until every byte is down (writes may be short). */
function writeAllSync(fd: number, parts: Buffer[]): void {
  let i = 0;
  while (i < parts.length) {
    let n = writevSync(fd, i === 0 ? parts : parts.slice(i));
    while (i < parts.length && n >= parts[i].length) n -= parts[i++].length;
    if (n > 0) parts[i] = parts[i].subarray(n);
  }
}

export interface ObjectResult {
  /** Plaintext bytes written. */
  readonly bytes: number;
  /** Hex SHA-256 of the plaintext. */
  readonly digest: string;
}

/**
 * Decrypts the body of the sealed file open as `src` (its header is `headerLen` bytes and
 * `state` was unlocked from it) into `out`, hashing as it goes. Wipes `state` when done.
 * `onWritten` is told the plaintext bytes written so far after each write (pullModel uses it to
 * start flushing to disk while decryption goes on).
 * @throws DecryptError for any segment that does not authenticate, truncation, or trailing bytes.
 */
export function decryptObjectToFd(state: FloeState, src: number, headerLen: number, out: number, onWritten?: (bytes: number) => void): ObjectResult {
  try {
    const seg = state.encSegLen;
    const size = fstatSync(src).size;
    const body = size - headerLen;
    if (body < SEGMENT_OVERHEAD) throw new DecryptError(); // no final segment
    const count = Math.ceil(body / seg);
    const perRead = Math.max(1, Math.floor(READ_BYTES / seg));
    const buf = Buffer.allocUnsafe(Math.min(perRead * seg, body));
    const hash = createHash("sha256");
    let pos = headerLen;
    let bytes = 0;
    for (let i = 0; i < count;) {
      const n = Math.min(perRead, count - i);
      const want = Math.min(n * seg, size - pos);
      readExactly(src, buf, want, pos);
      // the engine in use (native or reference): the whole read authenticates before any of it is hashed or written
      const pt = openBatchSync(state, { data: buf.subarray(0, want), first: i, count: n, final: i + n === count });
      i += n;
      hash.update(pt);
      bytes += pt.length;
      writeAllSync(out, [pt]);
      pt.fill(0);
      onWritten?.(bytes);
      pos += want;
    }
    if (readSync(src, Buffer.alloc(1), 0, 1, pos) !== 0) throw new DecryptError(); // bytes after the final segment
    return { bytes, digest: hash.digest("hex") };
  } finally {
    wipeState(state);
  }
}
