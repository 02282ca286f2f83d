/**
 * `destroyVersion`: crypto-shreds a version. Its sealed KEK is overwritten with NULL, so data
 * wrapped under it can never be unwrapped again; idempotent. What is left of the old value is
 * each store's to clear after the commit: the local keystore zeroes freed pages
 * (secure_delete) and truncates the WAL (db.ts truncateWal); PostgreSQL keeps the old row
 * version until VACUUM (server/store/pg-shred.ts).
 */
import type { KeyInfo } from "../key-info.js";
import { changeVersion } from "./change-version.js";
import type { AdminOp } from "./operation.js";

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT for the primary) */
export function destroyVersion(name: string, version: number): AdminOp<KeyInfo> {
  return changeVersion("destroy", name, version);
}
