import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { KeyError, PipesealError } from "../errors.js";
import { type AuditObject, type Keyring, type WrappedKey, mismatchMessage, servesEntry } from "../keys/keyring.js";
import { writeAtomic } from "../io/atomic.js";
import { FLOE_HEADER_LEN } from "../crypto/floe.js";
import { encodeKeyBlock, LIMITS, type SealedHeader } from "./header.js";
import { readHeader } from "./open.js";
import { Pull } from "./stream-head.js";
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
  /** The file's format version after the rewrap (2 after an upgrade). */
  readonly formatVersion: number;
  /** True if a v1 file was upgraded to v2 (`upgrade` option). */
  readonly upgraded: boolean;
}

export interface RewrapOptions {
  /**
   * Turn a v1 file into v2 (docs/format.md §9): every entry is rewrapped as a v2 entry bound to
   * the file, the version byte becomes 02, and the FLOE header and body stay byte for byte. All
   * entries must be of this keyring and rewrappable, or nothing is written. A v2 file is rewrapped as usual.
   */
  readonly upgrade?: boolean;
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
async function planRewrap(keyring: Keyring, header: SealedHeader, object: AuditObject, upgrade: boolean): Promise<RewrapPlan> {
  const plan: RewrapPlan = { entries: [], changes: [], kept: [] };
  const count = header.wrappedKeys.length;
  for (const [index, entry] of header.wrappedKeys.entries()) {
    if (!servesEntry(keyring, entry.keyring)) {
      plan.entries.push(entry);
      continue;
    }
    try {
      const target = upgrade ? { objectId: header.objectId, index, count } : undefined;
      const next = await keyring.rewrap(entry, header.context, object, target);
      plan.changes.push({ keyName: entry.keyName, from: entry.keyVersion, to: next.keyVersion, source: entry });
      plan.entries.push(next);
    } catch (e) {
      // a key block that does not authenticate, or an upgrade that cannot take every entry, writes nothing
      if (!(e instanceof PipesealError) || e.code === "AUDIT_WRITE_FAILED" || e.code === "KEY_BLOCK_INVALID" || upgrade) {
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
 * Rewraps a sealed file's data key under the primary version of each key that wrapped it
 * (with `upgrade`, also turns a v1 file into v2).
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
export async function rewrapFile(keyring: Keyring, path: string, options: RewrapOptions = {}): Promise<RewrapResult> {
  const { mode } = await stat(path);
  const maxHeader = LIMITS.maxFixedPart + LIMITS.maxKeyBlock + FLOE_HEADER_LEN;
  const header = await readHeader(new Pull(createReadStream(path, { end: maxHeader - 1 })));
  const object = { operation: "rewrap", path, headerHash: headerHash(header) };
  if (!header.wrappedKeys.some((k) => servesEntry(keyring, k.keyring)))
    throw new KeyError(
      "KEYRING_MISMATCH",
      mismatchMessage(
        keyring,
        header.wrappedKeys.map((k) => k.keyring),
      ),
    );
  const upgrade = options.upgrade === true && header.formatVersion === 1;
  const foreign = header.wrappedKeys.find((k) => !servesEntry(keyring, k.keyring));
  if (upgrade && foreign !== undefined) {
    // a v2 key block needs a v2 wrap and a tag for every entry; only the entry's own keyring can make them
    throw new KeyError(
      "KEYRING_MISMATCH",
      `cannot upgrade: the entry for ${foreign.keyName} is wrapped by keyring "${foreign.keyring}", not "${keyring.id}" (a v2 key block needs every entry rewrapped by its own keyring)`,
    );
  }
  const plan = await planRewrap(keyring, header, object, upgrade);
  const changes = plan.changes.map(({ keyName, from, to }) => ({ keyName, from, to }));
  const formatVersion = upgrade ? 2 : header.formatVersion;
  if (changes.length === 0) return { path, changes, kept: plan.kept, written: false, formatVersion: header.formatVersion, upgraded: false };
  // an upgrade changes byte 5 only: the FLOE AAD reads it as 01, so FLOE header and body stay valid as they are
  const fixedPart = upgrade ? Buffer.from(header.fixedPart) : header.fixedPart;
  if (upgrade) fixedPart[5] = 2;
  async function* rewritten(): AsyncGenerator<Buffer> {
    yield Buffer.concat([fixedPart, encodeKeyBlock(plan.entries, formatVersion), header.floeHeader]);
    yield* createReadStream(path, { start: header.length, highWaterMark: 1024 * 1024 });
  }
  try {
    await writeAtomic(path, rewritten(), mode & 0o777);
  } catch (e) {
    await notWritten(keyring, header, object, plan, e);
    throw e;
  }
  return { path, changes, kept: plan.kept, written: true, formatVersion, upgraded: upgrade };
}
