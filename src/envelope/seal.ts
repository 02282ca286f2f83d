import { randomBytes } from "node:crypto";
import { startEncryption, wipeState, type FloeState } from "../crypto/floe.js";
import { SEGMENT_OVERHEAD } from "../crypto/floe.js";
import { FormatError, UsageError } from "../errors.js";
import { entryDigest, tagEntries } from "../keys/key-block.js";
import { normalizeContext } from "../keys/context.js";
import type { EncryptionContext, Keyring, WrappedKey } from "../keys/keyring.js";
import { batches } from "./batches.js";
import { ordered, type SegmentEngine } from "./engine.js";
import { segmentEngine } from "../engine/index.js";
import { LIMITS, encodeFixedPart, encodeKeyBlock, floeAadOf, objectIdOf } from "./header.js";

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
 * Makes a fresh data key, starts FLOE (so the object id is known), wraps the key under each
 * named key bound to that object id, tags every entry (the v2 key block, docs/format.md §6)
 * and builds the header. The data key is wiped once the FLOE state and tags are derived.
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
  if (names.length > LIMITS.maxWrappedKeys) throw new FormatError("LIMIT_EXCEEDED", `a sealed file holds 1 to ${LIMITS.maxWrappedKeys} wrapped keys`);
  const fixedPart = encodeFixedPart(encSegLen, context);
  const dataKey = randomBytes(32);
  let state: FloeState | undefined;
  try {
    const started = startEncryption(dataKey, floeAadOf(fixedPart), { encSegLen });
    state = started.state;
    const objectId = objectIdOf(fixedPart, started.header);
    const wrapped: WrappedKey[] = [];
    for (const name of names) wrapped.push(await keyring.wrap(name, dataKey, context, objectId));
    const tags = tagEntries(
      dataKey,
      objectId,
      wrapped.map((w) => entryDigest(w.keyring, w.keyName, w.keyVersion, w.wrapped)),
    );
    const entries = wrapped.map((w, i) => ({ keyring: w.keyring, keyName: w.keyName, keyVersion: w.keyVersion, wrapped: w.wrapped, tag: tags[i] }));
    const header = Buffer.concat([fixedPart, encodeKeyBlock(entries), started.header]);
    const result = { header, state };
    state = undefined;
    return result;
  } finally {
    dataKey.fill(0);
    if (state !== undefined) wipeState(state);
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
