/**
 * Version state changes on the local keystore: disable, enable, destroy, and the minimum
 * decryption version. The rules are key-lifecycle.ts's; this file applies them.
 */
import { runAdminOp } from "./admin-op.js";
import { type KeyInfo, keyInfo } from "./key-info.js";
import { auditableName, auditableVersion, validateKeyName, validateVersion } from "./names.js";
import { requireVersion } from "./rows.js";
import { changeKeyState } from "./state-change.js";
import type { StoreContext } from "./store-context.js";
import { type VersionChange, checkMinDecryptVersion, nextVersionState } from "./key-lifecycle.js";

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT) */
export function disableVersion(ctx: StoreContext, name: string, version: number): KeyInfo {
  return runAdminOp(ctx, "key.disable", target(name, version), () => {
    changeVersion(ctx, "disable", name, version);
    return { result: keyInfo(ctx, name, ctx.now()) };
  });
}

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT if destroyed) */
export function enableVersion(ctx: StoreContext, name: string, version: number): KeyInfo {
  return runAdminOp(ctx, "key.enable", target(name, version), () => {
    changeVersion(ctx, "enable", name, version);
    return { result: keyInfo(ctx, name, ctx.now()) };
  });
}

/**
 * Crypto-shreds a version: its encrypted KEK is overwritten with NULL (secure_delete zeroes
 * the freed bytes) and the WAL is checkpointed and truncated so no copy stays in it.
 * Data wrapped under the version can never be unwrapped again. Idempotent.
 * @returns whether the WAL truncation succeeded (false if another connection blocked it;
 *   it then happens at the next checkpoint or close).
 * @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT for the primary)
 */
export function destroyVersion(ctx: StoreContext, name: string, version: number): { walTruncated: boolean } {
  runAdminOp(ctx, "key.destroy", target(name, version), () => {
    changeVersion(ctx, "destroy", name, version);
    return { result: undefined };
  });
  return { walTruncated: truncateWal(ctx) };
}

/**
 * Sets the lowest version that may be unwrapped (versions below it are refused with
 * KEY_BELOW_MIN_VERSION). Must lie in 1..primary.
 */
export function setMinDecryptVersion(ctx: StoreContext, name: string, version: number): KeyInfo {
  return runAdminOp(ctx, "key.set-min-version", target(name, version), () => {
    validateKeyName(name);
    validateVersion(version);
    changeKeyState(ctx, name, (key) => {
      checkMinDecryptVersion(key, version);
      ctx.db.prepare("UPDATE keys SET min_decrypt_version = ? WHERE name = ?").run(version, name);
    });
    return { result: keyInfo(ctx, name, ctx.now()) };
  });
}

function target(name: string, version: number): { keyName: string | null; keyVersion: number | null } {
  return { keyName: auditableName(name), keyVersion: auditableVersion(version) };
}

/** Applies `change` to a checked version as key-lifecycle.ts decides, then reseals the key (state-change.ts). */
function changeVersion(ctx: StoreContext, change: VersionChange, name: string, version: number): void {
  validateKeyName(name);
  validateVersion(version);
  changeKeyState(ctx, name, (key) => {
    const state = nextVersionState(change, name, key, requireVersion(ctx, key, version));
    if (state === "destroyed") {
      ctx.db
        .prepare("UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, ?) WHERE key_name = ? AND version = ?")
        .run(ctx.now(), name, version);
    } else {
      ctx.db.prepare("UPDATE key_versions SET state = ? WHERE key_name = ? AND version = ?").run(state, name, version);
    }
  });
}

/** wal_checkpoint(TRUNCATE): copies the WAL into the DB and truncates it to zero bytes. */
export function truncateWal(ctx: StoreContext): boolean {
  const [result] = ctx.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
  return result !== undefined && result.busy === 0;
}
