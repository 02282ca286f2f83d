/**
 * Whole-buffer reads and writes for the engine's pipeline: a read fills the caller's buffer
 * (fewer bytes only at the end of the input), a write puts all of it down. With the native
 * addon one call moves a whole batch on the thread pool, whatever the fd is (a file, a pipe,
 * stdin or stdout, blocking or not), so a pipe costs what a file costs; without it, files use
 * positional fs reads and streams (a pipe on stdin) are copied out of their chunks.
 */
import { read, write } from "node:fs";
import { promisify } from "node:util";
import { typedError } from "./fast.js";
import { nativeAddon } from "./native.js";

const fsRead = promisify(read);
const fsWrite = promisify(write);

export interface ByteSource {
  /** Fills `buf` from the input; returns the bytes read, fewer than its length only at the end. */
  read(buf: Buffer): Promise<number>;
  /** Present for a regular file: reads at any offset, so the pump can read several batches at once. */
  readonly positional?: PositionalSource;
}

/** Random access to a regular file beside its sequential `read`. */
export interface PositionalSource {
  /** Fills `buf` from file offset `position`; fewer bytes only where the file ends. */
  readAt(buf: Buffer, position: number): Promise<number>;
  /** The file offset the sequential `read` has reached (where a header read stopped). */
  offset(): number;
  /** The file's size when it was opened: how far reads may run ahead, never where the input ends. */
  readonly size: number;
}

export interface ByteSink {
  /** Writes all of `buf` (back-pressure: resolves once the bytes are down). */
  write(buf: Buffer): Promise<void>;
}

/** Reads an fd sequentially from its current offset (files, pipes, stdin). */
export function fdSource(fd: number): ByteSource {
  const addon = nativeAddon();
  if (addon) {
    return {
      read: (buf) =>
        addon.readFull(fd, buf, -1).catch((e: unknown) => {
          throw typedError(e, "read");
        }),
    };
  }
  return {
    async read(buf) {
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fsRead(fd, buf, got, buf.length - got, null);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got;
    },
  };
}

/**
 * Reads a regular file opened by the caller from offset 0: sequentially (`read`, for a
 * header) and at any offset (`positional`, for the pump's batches). Both are positional reads
 * underneath, so neither moves the other's offset.
 */
export function fileSource(fd: number, size: number): ByteSource {
  const addon = nativeAddon();
  const readAt = addon
    ? (buf: Buffer, position: number) =>
        addon.readFull(fd, buf, position).catch((e: unknown) => {
          throw typedError(e, "read");
        })
    : async (buf: Buffer, position: number) => {
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fsRead(fd, buf, got, buf.length - got, position + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got;
      };
  let offset = 0;
  return {
    async read(buf) {
      const n = await readAt(buf, offset);
      offset += n;
      return n;
    },
    positional: { readAt, offset: () => offset, size },
  };
}

/** Copies an async byte stream (e.g. process.stdin without the addon) into whole buffers. */
export function streamSource(stream: AsyncIterable<Uint8Array>): ByteSource {
  const it = stream[Symbol.asyncIterator]();
  let rest: Buffer = Buffer.alloc(0);
  let done = false;
  return {
    async read(buf) {
      let got = 0;
      while (got < buf.length) {
        if (rest.length === 0) {
          if (done) break;
          const next = await it.next();
          if (next.done) {
            done = true;
            break;
          }
          rest = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        }
        const n = rest.copy(buf, got, 0, Math.min(rest.length, buf.length - got));
        got += n;
        rest = rest.subarray(n);
      }
      return got;
    },
  };
}

/** Writes to an fd at its current offset (stdout, a pipe, a device such as /dev/null). */
export function fdSink(fd: number): ByteSink {
  const addon = nativeAddon();
  if (addon) {
    return {
      write: async (buf) => {
        await addon.writeFull(fd, buf, -1).catch((e: unknown) => {
          throw typedError(e, "write");
        });
      },
    };
  }
  return {
    async write(buf) {
      for (let off = 0; off < buf.length;) off += (await fsWrite(fd, buf, off, buf.length - off, null)).bytesWritten;
    },
  };
}

/** True when the native addon moves the bytes (so any fd, even a non-blocking pipe, is safe to hand to fdSource/fdSink). */
export function nativeIo(): boolean {
  return nativeAddon() !== undefined;
}
