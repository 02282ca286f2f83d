import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { KeyError, PipesealError } from "../errors.js";
import { type AuditObject, type Keyring, type WrappedKey, mismatchMessage, servesEntry } from "../keys/keyring.js";
import { writeAtomic } from "../io/atomic.js";
import { FLOE_HEADER_LEN } from "../crypto/floe.js";
import { encodeKeyBlock, LIMITS, type SealedHeader } from "./header.js";
import { readHeader } from "./open.js";
import { Pull } from "./pull.js";
import { failureCode, headerHash } from "./unlock.js";

export interface RewrapResult {
  readonly path: string;
  /** Entries rewrapped, and written to the file. */
  readonly changes: readonly { keyName: string; from: number; to: number }[];
  /**
   * Entries of this keyring that could not be rewrapped (destroyed, disabled or below-minimum
   * version, a corrupted entry, …): kept in the file exactly as they were, with the reason.
   */
  readonly kept: readonly { keyName: string; version: number; code: string; message: string }[];
  /** True if the file was rewritten (at least one entry changed). */
  readonly written: boolean;
}

/** What rewrapping each entry gave: the new key block and what changed or was kept. */
interface RewrapPlan {
  readonly entries: WrappedKey[];
  readonly changes: { keyName: string; from: number; to: number; source: WrappedKey }[];
  readonly kept: { keyName: string; version: number; code: string; message: string }[];
}

/**
 * Asks the keyring to rewrap each of its entries (each audited by the keyring: `rewrap ok`
 * when the new entry exists, `denied`/`error` when it cannot be made). An entry that cannot
 * be rewrapped is kept as it is; an audit failure, or an error that is not a PipesealError,
 * stops the plan (fail closed) after recording, best effort, that the entries rewrapped so
 * far never reached the file.
 */
async function planRewrap(keyring: Keyring, header: SealedHeader, object: AuditObject): Promise<RewrapPlan> {
  const plan: RewrapPlan = { entries: [], changes: [], kept: [] };
  for (const entry of header.wrappedKeys) {
    if (!servesEntry(keyring, entry.keyring)) {
      plan.entries.push(entry);
      continue;
    }
    try {
      const next = await keyring.rewrap(entry, header.context, object);
      plan.changes.push({ keyName: entry.keyName, from: entry.keyVersion, to: next.keyVersion, source: entry });
      plan.entries.push(next);
    } catch (e) {
      if (!(e instanceof PipesealError) || e.code === "AUDIT_WRITE_FAILED") {
        await notWritten(keyring, header, object, plan, e);
        throw e;
      }
      plan.kept.push({ keyName: entry.keyName, version: entry.keyVersion, code: e.code, message: e.message });
      plan.entries.push(entry);
    }
  }
  return plan;
}

/** The second record of each `rewrap … ok` whose new entry never reached the file. Best effort. */
async function notWritten(keyring: Keyring, header: SealedHeader, object: AuditObject, plan: RewrapPlan, error: unknown): Promise<void> {
  for (const c of plan.changes) {
    try {
      await keyring.reportFailure?.(c.source, header.context, object, failureCode(error));
    } catch {
      // the rewrap is failing already; its own error is what the caller sees
    }
  }
}

/**
 * Rewraps a sealed file's data key under the primary version of each key that wrapped it.
 * The keyring does the rewrap itself and never hands out the data key. Only the key block
 * changes; the fixed part, FLOE header and body are copied byte for byte into a temp
 * file that replaces the original atomically. Entries from other keyrings are kept as they are.
 *
 * Entries are rewrapped one by one; one that cannot be (its version destroyed, disabled or
 * below the minimum, the entry corrupted) is kept as it was and listed in `kept`, and the
 * others are still rewrapped and written. The audit then says exactly what the file holds:
 * `rewrap … ok` for each entry written, `denied`/`error` with the code for each kept one, and,
 * if the file could not be written after all, a `rewrap … error` after each `ok`.
 * @throws FormatError, KeyError(KEYRING_MISMATCH), AuditError (nothing written), I/O errors.
 */
export async function rewrapFile(keyring: Keyring, path: string): Promise<RewrapResult> {
  const { mode } = await stat(path);
  const maxHeader = LIMITS.maxFixedPart + LIMITS.maxKeyBlock + FLOE_HEADER_LEN;
  const header = await readHeader(new Pull(createReadStream(path, { end: maxHeader - 1 })));
  const object = { operation: "rewrap", path, headerHash: headerHash(header) };
  if (!header.wrappedKeys.some((k) => servesEntry(keyring, k.keyring))) throw new KeyError("KEYRING_MISMATCH", mismatchMessage(keyring, header.wrappedKeys.map((k) => k.keyring)));
  const plan = await planRewrap(keyring, header, object);
  const changes = plan.changes.map(({ keyName, from, to }) => ({ keyName, from, to }));
  if (changes.length === 0) return { path, changes, kept: plan.kept, written: false };
  async function* rewritten(): AsyncGenerator<Buffer> {
    yield Buffer.concat([header.fixedPart, encodeKeyBlock(plan.entries), header.floeHeader]);
    yield* createReadStream(path, { start: header.length, highWaterMark: 1024 * 1024 });
  }
  try {
    await writeAtomic(path, rewritten(), mode & 0o777);
  } catch (e) {
    await notWritten(keyring, header, object, plan, e);
    throw e;
  }
  return { path, changes, kept: plan.kept, written: true };
}
