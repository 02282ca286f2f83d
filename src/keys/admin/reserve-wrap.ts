/**
 * Counting a wrap against the primary version, for every store: at most 2^32 GCM encryptions
 * per key (NIST SP 800-38D §8.3, wrap-format.ts), counted in its own committed transaction
 * BEFORE any encryption, so a crash can only over-count, never under-count. On PostgreSQL the
 * key row is locked FOR SHARE (a rotation, FOR UPDATE, waits) and the version row FOR UPDATE
 * (concurrent wraps through any replica serialize on it).
 */
import type { StateSeal } from "../key-state.js";
import { checkedKey, checkedVersion } from "../rows.js";
import { kekForWrap } from "../version-rules.js";
import { type Steps, ask } from "./statements.js";

/**
 * The primary version's number and sealed KEK, its use counted (the count and its state MAC in one statement).
 * @throws KeyError(KEY_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_USAGE_LIMIT), KeystoreError(KEYSTORE_CORRUPT)
 */
export function* reserveWrap(seal: StateSeal, name: string, limit: number): Steps<{ version: number; kek: Buffer }> {
  const key = checkedKey(seal, name, yield* ask("keyRow", name, "share"));
  const row = checkedVersion(seal, key, key.primary_version, yield* ask("versionRow", name, key.primary_version, "update"));
  const kek = kekForWrap(name, row, limit);
  const count = row.wrap_count + 1;
  yield* ask("setWrapCount", name, row.version, count, seal.versionMac({ ...row, wrap_count: count }));
  return { version: row.version, kek };
}
