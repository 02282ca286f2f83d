/**
 * Streams plaintext [start, start + length) of an open object to a response in bounded
 * memory: one step (≤ 1 MiB) decrypted ahead while the previous one is written, waiting for
 * the socket to drain (back-pressure), each buffer wiped once the socket has taken it. A
 * step that fails authentication is never written: the connection is destroyed, so the
 * client sees a truncated transfer (fewer bytes than Content-Length), never a short body
 * that looks complete.
 */
import type { ServerResponse } from "node:http";
import type { SealedFileReader } from "../envelope/reader.js";

const STEP = 1024 * 1024;

export interface SendResult {
  readonly bytes: number;
  /** Set when a step failed (authentication, I/O): the connection was destroyed. */
  readonly error?: unknown;
  /** The client went away (or stalled past the timeout) before the end. */
  readonly aborted: boolean;
}

/** Reads the first step before any header is sent, so an early failure can still be a clean error status. */
export async function firstStep(reader: SealedFileReader, start: number, length: number): Promise<Buffer> {
  return reader.read(start, Math.min(STEP, length));
}

/** Writes `first` (from firstStep) and the rest; the response headers must already be set. */
export async function sendBody(res: ServerResponse, reader: SealedFileReader, start: number, length: number, first: Buffer): Promise<SendResult> {
  let sent = 0;
  let chunk: Buffer | undefined = first;
  let offset = start + first.length;
  const end = start + length;
  try {
    while (chunk) {
      // decrypt the next step while this one goes out
      const next: Promise<Buffer> | undefined = offset < end ? reader.read(offset, Math.min(STEP, end - offset)) : undefined;
      next?.catch(() => undefined); // observed below; no unhandled rejection meanwhile
      if (next) offset += Math.min(STEP, end - offset);
      if (res.destroyed) {
        wipeLater(next);
        chunk.fill(0);
        return { bytes: sent, aborted: true };
      }
      const piece: Buffer = chunk;
      const more = res.write(piece, () => piece.fill(0));
      sent += piece.length;
      if (!more && !(await drained(res))) {
        wipeLater(next);
        return { bytes: sent, aborted: true };
      }
      chunk = next ? await next : undefined;
    }
  } catch (error) {
    res.destroy(); // never end a response whose next bytes did not authenticate
    return { bytes: sent, error, aborted: true };
  }
  await new Promise<void>((resolve) => res.end(resolve));
  return { bytes: sent, aborted: false };
}

/** Resolves true on 'drain', false if the response closes first (client gone, or timed out). */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on("drain", onDrain);
    res.on("close", onClose);
  });
}

function wipeLater(p: Promise<Buffer> | undefined): void {
  p?.then((b) => b.fill(0)).catch(() => undefined);
}
