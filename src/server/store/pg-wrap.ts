/** Wrap on PostgreSQL: the use counted first, as for the keystore (keys/admin/reserve-wrap.ts), then the data key sealed. */
import type pg from "pg";
import type { EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { runOnPg } from "./pg-key-statements.js";
import { inTx } from "./pg-tx.js";
import { reserveWrap } from "../../keys/admin/reserve-wrap.js";
import { checkWrapInput, sealUnderVersion } from "../../keys/wrap.js";

/** @throws UsageError(INVALID_ARGUMENT), KeyError(KEY_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_USAGE_LIMIT) */
export async function wrapPg(
  pool: pg.Pool,
  root: RootKey,
  seal: StateSeal,
  keyringId: string,
  limit: number,
  keyName: string,
  dataKey: Uint8Array,
  context: EncryptionContext,
  objectId?: Uint8Array,
): Promise<WrappedKey> {
  checkWrapInput(keyringId, keyName, dataKey, context, objectId);
  const { version, kek: blob } = await inTx(pool, (c) => runOnPg(c, reserveWrap(seal, keyName, limit)));
  return sealUnderVersion(root, keyringId, keyName, version, blob, context, dataKey, objectId);
}
