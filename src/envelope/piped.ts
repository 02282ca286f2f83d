/**
 * Sealing and opening over whole-buffer sources (src/engine/io.ts) through the overlapped
 * pump (src/engine/pump.ts): what the CLI uses for files, stdin and stdout. Same bytes, same
 * checks and same audit records as sealStream / openStream; only the plumbing differs.
 * Yielded buffers are valid until the consumer asks for the next one (see pump.ts): hand
 * them to writeAtomic or a ByteSink, never keep them.
 */
import { wipeState } from "../crypto/floe.js";
import type { ByteSource } from "../engine/io.js";
import { pump } from "../engine/pump.js";
import { openStep, sealStep } from "../engine/steps.js";
import type { Keyring } from "../keys/keyring.js";
import { readHeader } from "./open.js";
import { Pull } from "./stream-head.js";
import { startSeal, type SealOptions } from "./seal.js";
import { unlockForUse } from "./unlock.js";

/** Batches in flight on the thread pool: two per core here, so neither core waits on the other. */
const DEPTH = 4;
/** Bytes read at a time while the header is parsed (the rest starts the first batch). */
const HEADER_CHUNK = 16 * 1024;

/** The header, then the FLOE body. @throws KeyError from the keyring; UsageError for bad options. */
export async function* sealPiped(keyring: Keyring, source: ByteSource, options: Omit<SealOptions, "engine">): AsyncGenerator<Buffer> {
  const { header, state } = await startSeal(keyring, options);
  try {
    yield header;
    yield* pump(source, sealStep(state), DEPTH);
  } finally {
    wipeState(state);
  }
}

async function* chunks(source: ByteSource): AsyncGenerator<Buffer> {
  for (;;) {
    const buf = Buffer.allocUnsafe(HEADER_CHUNK);
    const n = await source.read(buf);
    if (n > 0) yield buf.subarray(0, n);
    if (n < buf.length) return;
  }
}

/**
 * Plaintext of a sealed input, batch by batch, each released only once all its segments
 * authenticate. Audited as openStream is: the unwrap before any key is released, and a
 * second record with the code if the body then fails.
 * @throws FormatError, KeyError, AuditError, DecryptError.
 */
export async function* openPiped(keyring: Keyring, source: ByteSource, options: { readonly path?: string } = {}): AsyncGenerator<Buffer> {
  const headerChunks = chunks(source);
  const pull = new Pull(headerChunks);
  const header = await readHeader(pull);
  // what the header reads left over starts the body; from here on the pump reads the source itself
  const rest = pull.rest();
  const first = await rest.next();
  await rest.return(undefined);
  const prefix = first.done ? Buffer.alloc(0) : first.value;
  const unlocked = await unlockForUse(keyring, header, { operation: "decrypt", ...(options.path ? { path: options.path } : {}) });
  try {
    yield* pump(source, openStep(unlocked.state), DEPTH, prefix);
  } catch (e) {
    await unlocked.failed(e); // the key was released (an "ok" record); the decrypt did not complete
    throw e;
  } finally {
    wipeState(unlocked.state);
  }
}
