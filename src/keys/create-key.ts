/** `createKey`: a new named key with version 1 as primary. */
import { runAdminOp } from "./admin-op.js";
import { generateKek } from "./kek.js";
import { checkRotationPeriod, keyExists } from "./key-lifecycle.js";
import { type KeyInfo, keyInfo } from "./key-info.js";
import { auditableName, validateKeyName } from "./names.js";
import { findKey } from "./rows.js";
import { resealKey } from "./state-change.js";
import type { StoreContext } from "./store-context.js";

export interface CreateKeyOptions {
  /** Rotation period; `showKey` reports `rotationDue` once the primary is older. */
  readonly rotateEverySeconds?: number;
}

/**
 * @throws UsageError(INVALID_ARGUMENT) on a bad name or period; KeyError(KEY_EXISTS).
 */
export function createKey(ctx: StoreContext, name: string, options: CreateKeyOptions = {}): KeyInfo {
  const period = options.rotateEverySeconds;
  return runAdminOp(ctx, "key.create", { keyName: auditableName(name), keyVersion: 1 }, () => {
    validateKeyName(name);
    checkRotationPeriod(period);
    if (findKey(ctx, name) !== undefined) throw keyExists(name);
    const now = ctx.now();
    ctx.db
      .prepare("INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES (?, 1, 1, ?, ?)")
      .run(name, period ?? null, now);
    insertVersion(ctx, name, 1, now);
    resealKey(ctx, name);
    return { result: keyInfo(ctx, name, now) };
  });
}

/** Inserts a fresh enabled version with a new random KEK (encrypted at rest); the caller reseals the key. */
export function insertVersion(ctx: StoreContext, name: string, version: number, now: number): void {
  const kek = generateKek();
  try {
    const blob = ctx.master.sealKek(name, version, kek);
    ctx.db
      .prepare("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES (?, ?, 'enabled', ?, ?, 0)")
      .run(name, version, blob, now);
  } finally {
    kek.fill(0);
  }
}
