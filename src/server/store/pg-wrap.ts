/**
 * Wrap on PostgreSQL: the use is counted against the primary version (NIST SP 800-38D §8.3,
 * at most 2^32 GCM encryptions per key) in its own committed transaction BEFORE any
 * encryption, so a crash can only over-count, never under-count.
 */
import type pg from "pg";
import type { EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { requireKeyPg, requireVersionPg } from "./pg-keys.js";
import { inTx } from "./pg-tx.js";
import { kekForWrap } from "../../keys/version-rules.js";
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
  const { version, kek: blob } = await reserveWrap(pool, seal, limit, keyName);
  return sealUnderVersion(root, keyringId, keyName, version, blob, context, dataKey, objectId);
}

/**
 * The version row is locked FOR UPDATE (concurrent wraps through any replica serialize on it,
 * as the UPDATE alone did), checked, and its new count written with its MAC in one statement
 * (src/keys/key-state.ts: the count is bound exactly, a lowered one is corruption).
 */
async function reserveWrap(pool: pg.Pool, seal: StateSeal, limit: number, keyName: string): Promise<{ version: number; kek: Buffer }> {
  return inTx(pool, async (c) => {
    const key = await requireKeyPg(c, seal, keyName, "FOR SHARE");
    const row = await requireVersionPg(c, seal, key, key.primary_version, "FOR UPDATE");
    const kek = kekForWrap(keyName, row, limit);
    const count = row.wrap_count + 1;
    await c.query("UPDATE key_versions SET wrap_count = $1, state_mac = $2 WHERE key_name = $3 AND version = $4", [
      count,
      seal.versionMac({ ...row, wrap_count: count }),
      keyName,
      row.version,
    ]);
    return { version: row.version, kek };
  });
}
