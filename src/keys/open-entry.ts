/**
 * Opening a wrapped entry, as every store does it: the entry and its context are checked before
 * any key state is read, then the entry is opened with its version's KEK, which is wiped at once.
 * The stores differ only in how they read the version's checked KEK blob (unwrap.ts; PostgreSQL's
 * group commit, server/store/pg-unwrap.ts).
 */
import { KeyError, UsageError } from "../errors.js";
import { bindingOf, openWrapped } from "./bound-wrap.js";
import { encodeContext } from "./context.js";
import type { EncryptionContext, WrappedKey } from "./keyring.js";
import { validateKeyName, validateVersion } from "./names.js";
import type { RootKey } from "./root-key.js";

/**
 * The entry's key name and version, once its shape, keyring, context and binding are valid.
 * @throws UsageError(INVALID_ARGUMENT), KeyError(KEYRING_MISMATCH), FormatError for a bad binding
 */
export function checkEntry(keyringId: string, entry: WrappedKey, context: EncryptionContext): { name: string; version: number } {
  if (entry === null || typeof entry !== "object") throw new UsageError("INVALID_ARGUMENT", "a wrapped key entry is required");
  if (entry.keyring !== keyringId) {
    throw new KeyError("KEYRING_MISMATCH", `the entry was wrapped by keyring "${String(entry.keyring).slice(0, 40)}", not "${keyringId}"`);
  }
  const name = validateKeyName(entry.keyName);
  const version = validateVersion(entry.keyVersion);
  if (!(entry.wrapped instanceof Uint8Array)) throw new UsageError("INVALID_ARGUMENT", "entry.wrapped must be a Uint8Array");
  encodeContext(context);
  bindingOf(entry);
  return { name, version };
}

/**
 * The data key of a checked entry, opened with the KEK sealed in `blob` (a version the store's
 * rules let decrypt). The caller owns and wipes the result.
 * @throws DecryptError (wrong context, forged entry)
 */
export function openWithKek(
  root: RootKey,
  keyringId: string,
  name: string,
  version: number,
  blob: Buffer,
  context: EncryptionContext,
  entry: WrappedKey,
): Buffer {
  const kek = root.openKek(name, version, blob);
  try {
    return openWrapped(kek, keyringId, name, version, context, entry);
  } finally {
    kek.fill(0);
  }
}
