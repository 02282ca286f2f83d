import { randomBytes } from "node:crypto";
import { startEncryption, wipeState, type FloeState } from "../crypto/floe.js";
import { SEGMENT_OVERHEAD } from "../crypto/floe.js";
import { UsageError } from "../errors.js";
import { normalizeContext } from "../keys/context.js";
import type { EncryptionContext, Keyring, WrappedKey } from "../keys/keyring.js";
import { batches } from "./batches.js";
import { ordered, type SegmentEngine } from "./engine.js";
import { segmentEngine } from "../engine/index.js";
import { LIMITS, encodeFixedPart, encodeKeyBlock } from "./header.js";

/** Default plaintext bytes per segment, chosen by `npm run bench -- --sweep` (see README). */
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;
/** Plaintext bytes handed to the cipher per batch. */
const BATCH_BYTES = 1024 * 1024;

export interface SealOptions {
  /** Key name(s) to wrap the data key under; each gets its own entry in the key block. */
  readonly keyName: string | readonly string[];
  /** Bound as associated data; shown by `inspect` (so never put secrets in it). */
  readonly context?: EncryptionContext;
  /** Plaintext bytes per segment (default DEFAULT_SEGMENT_SIZE). */
  readonly segmentSize?: number;
  /** Where segment work runs; defaults to the engine in use (native when the addon loads, else node:crypto). */
  readonly engine?: SegmentEngine;
}

/**
 * Makes a fresh data key, wraps it under each named key, and builds the header.
 * The data key is wiped once the FLOE state has been derived from it.
 */
export async function startSeal(keyring: Keyring, options: SealOptions): Promise<{ header: Buffer; state: FloeState }> {
  const names = typeof options.keyName === "string" ? [options.keyName] : [...options.keyName];
  if (names.length === 0) throw new UsageError("INVALID_ARGUMENT", "at least one key name is needed");
  const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const encSegLen = segmentSize + SEGMENT_OVERHEAD;
  if (!Number.isInteger(segmentSize) || encSegLen < LIMITS.minEncSegLen || encSegLen > LIMITS.maxEncSegLen) {
    throw new UsageError("INVALID_ARGUMENT", `segment size must be ${LIMITS.minEncSegLen - SEGMENT_OVERHEAD}..${LIMITS.maxEncSegLen - SEGMENT_OVERHEAD} bytes`);
  }
  const context = normalizeContext(options.context ?? {});
  const fixedPart = encodeFixedPart(encSegLen, context);
  const dataKey = randomBytes(32);
  try {
    const wrapped: WrappedKey[] = [];
    for (const name of names) wrapped.push(await keyring.wrap(name, dataKey, context));
    const { state, header: floeHeader } = startEncryption(dataKey, fixedPart, { encSegLen });
    return { header: Buffer.concat([fixedPart, encodeKeyBlock(wrapped), floeHeader]), state };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Seals a byte stream: yields the header, then the FLOE body segment batch by segment batch.
 * Memory stays bounded by the batch size times the engine's depth, whatever the input size.
 * @example
 * for await (const chunk of sealStream(keystore, fs.createReadStream("data.csv"), { keyName: "datasets/raw" })) out.write(chunk);
 * @throws KeyError from the keyring; UsageError for bad options.
 */
export async function* sealStream(keyring: Keyring, source: AsyncIterable<Uint8Array>, options: SealOptions): AsyncGenerator<Buffer> {
  const { header, state } = await startSeal(keyring, options);
  const engine = options.engine ?? segmentEngine();
  const segmentSize = state.encSegLen - SEGMENT_OVERHEAD;
  const perBatch = Math.max(1, Math.floor((engine.batchBytes ?? BATCH_BYTES) / segmentSize));
  try {
    yield header;
    yield* ordered(batches(source, segmentSize, perBatch), (b) => engine.encrypt(state, b), engine.depth);
  } finally {
    wipeState(state);
  }
}
