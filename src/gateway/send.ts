/**
 * Streams plaintext [start, start + length) of an open object to a response in bounded
 * memory: one step (≤ 1 MiB) decrypted ahead while the previous one is written, waiting for
 * the socket to drain (back-pressure), each buffer wiped once the socket has taken it. A
 * step that fails authentication — or whose window could not be renewed past the TTL — is
 * never written: the connection is destroyed, so the client sees a truncated transfer (fewer
 * bytes than Content-Length), never a short body that looks complete. Each step sent is
 * counted in the window whose keys decrypted it.
 */
import type { ServerResponse } from "node:http";
import type { ObjectLease, Piece } from "./lease.js";

const STEP = 1024 * 1024;

export interface SendResult {
  readonly bytes: number;
  /** Set when a step failed (authentication, I/O): the connection was destroyed. */
  readonly error?: unknown;
  /** The client went away (or stalled past the timeout) before the end. */
  readonly aborted: boolean;
}

/** Reads the first step before any header is sent, so an early failure can still be a clean error status. */
export async function firstStep(lease: ObjectLease, start: number, length: number): Promise<Piece> {
  return lease.read(start, Math.min(STEP, length));
}

/** Writes `first` (from firstStep) and the rest; the response headers must already be set. */
export async function sendBody(res: ServerResponse, lease: ObjectLease, start: number, length: number, first: Piece): Promise<SendResult> {
  let sent = 0;
  let chunk: Piece | undefined = first;
  let offset = start + first.bytes.length;
  const end = start + length;
  try {
    while (chunk) {
      // decrypt the next step while this one goes out
      const nextAt = offset;
      const next: Promise<Piece> | undefined = offset < end ? lease.read(offset, Math.min(STEP, end - offset)) : undefined;
      next?.catch(() => undefined); // observed below; no unhandled rejection meanwhile
      if (next) offset += Math.min(STEP, end - offset);
      if (res.destroyed) {
        wipeLater(next);
        chunk.bytes.fill(0);
        return { bytes: sent, aborted: true };
      }
      const piece: Buffer = chunk.bytes;
      const more = res.write(piece, () => piece.fill(0));
      chunk.entry.bytes += piece.length;
      sent += piece.length;
      if (!more && !(await drained(res))) {
        wipeLater(next);
        return { bytes: sent, aborted: true };
      }
      chunk = next ? await next : undefined;
      if (chunk?.entry.closed) {
        // its window's TTL passed while it waited unsent (a slow reader): that window's summary is
        // written without it, so it is dropped and decrypted again under a renewed window
        chunk.bytes.fill(0);
        chunk = await lease.read(nextAt, chunk.bytes.length);
      }
    }
  } catch (error) {
    res.destroy(); // never end a response whose next bytes did not authenticate (or have no live keys)
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

function wipeLater(p: Promise<Piece> | undefined): void {
  p?.then((b) => b.bytes.fill(0)).catch(() => undefined);
}
