/** `wrap`: encrypts a data key under the primary version of a named key. */
import { UsageError } from "../errors.js";
import { encodeContext } from "./context.js";
import type { EncryptionContext, WrappedKey } from "./keyring.js";
import { validateKeyName } from "./names.js";
import type { RootKey } from "./root-key.js";
import type { StoreContext } from "./store-context.js";
import { DATA_KEY_BYTES, sealDataKey, wrapAad } from "./wrap-format.js";
import { immediate } from "./db.js";
import { reserveWrap } from "./admin/reserve-wrap.js";
import { runOnSqlite } from "./admin/sqlite-statements.js";

/**
 * Wraps a 32-byte data key under the primary version of `keyName` (format: wrap-format.ts);
 * with `objectId`, a v2 wrap bound to that sealed file.
 * The use is counted against the version's GCM limit first (admin/reserve-wrap.ts).
 * @throws UsageError(INVALID_ARGUMENT) on a bad name, data key or context;
 *   KeyError(KEY_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_USAGE_LIMIT).
 */
export function wrapDataKey(ctx: StoreContext, keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): WrappedKey {
  checkWrapInput(ctx.keyringId, keyName, dataKey, context, objectId);
  const { version, kek } = immediate(ctx.db, () => runOnSqlite(ctx.db, reserveWrap(ctx.seal, keyName, ctx.maxWrapsPerVersion)));
  return sealUnderVersion(ctx.master, ctx.keyringId, keyName, version, kek, context, dataKey, objectId);
}

/**
 * A wrap's input, checked before a use is counted (every store): the key name, a 32-byte data
 * key, the context, and the object id of a bound wrap.
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function checkWrapInput(keyringId: string, keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): void {
  validateKeyName(keyName);
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw new UsageError("INVALID_ARGUMENT", `a data key must be a Uint8Array of ${DATA_KEY_BYTES} bytes`);
  }
  encodeContext(context);
  wrapAad(keyringId, keyName, 1, context, objectId);
}

/** The wrapped entry of `dataKey` under a counted version's KEK (opened from its sealed blob, then wiped). Every store seals this way. */
export function sealUnderVersion(
  root: RootKey,
  keyringId: string,
  keyName: string,
  version: number,
  blob: Buffer,
  context: EncryptionContext,
  dataKey: Uint8Array,
  objectId?: Uint8Array,
): WrappedKey {
  const kek = root.openKek(keyName, version, blob);
  try {
    return { keyring: keyringId, keyName, keyVersion: version, wrapped: sealDataKey(kek, wrapAad(keyringId, keyName, version, context, objectId), dataKey) };
  } finally {
    kek.fill(0);
  }
}
