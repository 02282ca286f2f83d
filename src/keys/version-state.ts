/**
 * Version state changes: disable, enable, destroy, and the minimum decryption version.
 *
 * Rules (Tink's key model): the primary version is always enabled, so it cannot be
 * disabled or destroyed: rotate first (KEY_STATE_CONFLICT). A destroyed version is final.
 * Disabling or enabling a version already in that state is a no-op (still audited).
 */
import { KeyError, UsageError } from "../errors.js";
import { runAdminOp } from "./admin-op.js";
import { type KeyInfo, keyInfo } from "./key-info.js";
import { auditableName, auditableVersion, validateKeyName, validateVersion } from "./names.js";
import { type VersionRow, requireVersion } from "./rows.js";
import { changeKeyState } from "./state-change.js";
import type { StoreContext } from "./store-context.js";

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT) */
export function disableVersion(ctx: StoreContext, name: string, version: number): KeyInfo {
  return runAdminOp(ctx, "key.disable", target(name, version), () => {
    changeNonPrimary(ctx, name, version, "disabled", (row) => {
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed`);
      ctx.db.prepare("UPDATE key_versions SET state = 'disabled' WHERE key_name = ? AND version = ?").run(name, version);
    });
    return { result: keyInfo(ctx, name, ctx.now()) };
  });
}

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT if destroyed) */
export function enableVersion(ctx: StoreContext, name: string, version: number): KeyInfo {
  return runAdminOp(ctx, "key.enable", target(name, version), () => {
    validateKeyName(name);
    validateVersion(version);
    changeKeyState(ctx, name, (key) => {
      const row = requireVersion(ctx, key, version);
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed and cannot be enabled`);
      ctx.db.prepare("UPDATE key_versions SET state = 'enabled' WHERE key_name = ? AND version = ?").run(name, version);
    });
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
    changeNonPrimary(ctx, name, version, "destroyed", () => {
      ctx.db
        .prepare("UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, ?) WHERE key_name = ? AND version = ?")
        .run(ctx.now(), name, version);
    });
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
      if (version > key.primary_version) {
        throw new UsageError("INVALID_ARGUMENT", `the minimum decryption version must be at most the primary version ${key.primary_version}`);
      }
      ctx.db.prepare("UPDATE keys SET min_decrypt_version = ? WHERE name = ?").run(version, name);
    });
    return { result: keyInfo(ctx, name, ctx.now()) };
  });
}

function target(name: string, version: number): { keyName: string | null; keyVersion: number | null } {
  return { keyName: auditableName(name), keyVersion: auditableVersion(version) };
}

/** Runs `change` on a checked non-primary version, then reseals the key (state-change.ts). */
function changeNonPrimary(ctx: StoreContext, name: string, version: number, verb: string, change: (row: VersionRow) => void): void {
  validateKeyName(name);
  validateVersion(version);
  changeKeyState(ctx, name, (key) => {
    const row = requireVersion(ctx, key, version);
    if (key.primary_version === version) {
      throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is the primary version and cannot be ${verb}; rotate first`);
    }
    change(row);
  });
}

/** wal_checkpoint(TRUNCATE): copies the WAL into the DB and truncates it to zero bytes. */
export function truncateWal(ctx: StoreContext): boolean {
  const [result] = ctx.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
  return result !== undefined && result.busy === 0;
}
