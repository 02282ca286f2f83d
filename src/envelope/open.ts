import { SEGMENT_OVERHEAD, type FloeState } from "../crypto/floe.js";
import type { Keyring } from "../keys/keyring.js";
import { batches } from "./batches.js";
import { ordered, type SegmentEngine } from "./engine.js";
import { segmentEngine } from "../engine/index.js";
import { PRELUDE_LEN, decodeHeader, fixedPartLength, headerLength, type SealedHeader } from "./header.js";
import { Pull } from "./stream-head.js";
import { unlockForUse, wipeState } from "./unlock.js";

export interface OpenOptions {
  /** Names the object in the audit record (a path, a URL). */
  readonly path?: string;
  /** Where segment work runs; defaults to the engine in use (native when the addon loads, else node:crypto). */
  readonly engine?: SegmentEngine;
}

const BATCH_BYTES = 1024 * 1024;

/** Reads and parses the header from the front of a stream, leaving the body in `pull`. */
export async function readHeader(pull: Pull): Promise<SealedHeader> {
  const prelude = await pull.peek(PRELUDE_LEN);
  const fixed = fixedPartLength(prelude);
  const total = headerLength(await pull.peek(fixed + 4));
  const bytes = await pull.peek(total);
  const header = decodeHeader(bytes);
  pull.skip(header.length);
  return header;
}

/**
 * Opens a sealed stream: parses the header, unwraps the data key (audited before any
 * key is released), and yields plaintext batch by batch. If the stream then fails (a
 * truncated, altered or extended body, a read error), the failure is recorded as a second
 * audit record with its code (Keyring.reportFailure). Each batch is released only
 * after every segment in it authenticates; a stream that ends without its final
 * segment, or has bytes after it, fails with DecryptError.
 * Callers writing to a file must discard what they wrote if this throws (decryptFile does).
 * @throws FormatError, KeyError, AuditError, DecryptError.
 */
export async function* openStream(keyring: Keyring, source: AsyncIterable<Uint8Array>, options: OpenOptions = {}): AsyncGenerator<Buffer> {
  const pull = new Pull(source);
  const header = await readHeader(pull);
  const unlocked = await unlockForUse(keyring, header, { operation: "decrypt", ...(options.path ? { path: options.path } : {}) });
  const state: FloeState = unlocked.state;
  const engine = options.engine ?? segmentEngine();
  const perBatch = Math.max(1, Math.floor((engine.batchBytes ?? BATCH_BYTES) / (header.encSegLen - SEGMENT_OVERHEAD)));
  try {
    yield* ordered(batches(pull.rest(), header.encSegLen, perBatch), (b) => engine.decrypt(state, b), engine.depth);
  } catch (e) {
    // the key was released (an "ok" record); the decrypt did not complete: a second record says so
    await unlocked.failed(e);
    throw e;
  } finally {
    wipeState(state);
  }
}
