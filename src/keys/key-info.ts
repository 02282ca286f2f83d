/** Read-only views of keys: KeyInfo and the rotation-due plan (read by admin/key-rows.ts keyInfo). */
import type { KeyRow, KeyState, VersionRow } from "./rows.js";

export interface KeyVersionInfo {
  readonly version: number;
  readonly state: KeyState;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Wraps done under this version (counted against the GCM limit). */
  readonly wrapCount: number;
  /** Epoch milliseconds, or null. */
  readonly destroyedAt: number | null;
}

export interface KeyInfo {
  readonly name: string;
  readonly primaryVersion: number;
  readonly minDecryptVersion: number;
  readonly rotateEverySeconds: number | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** `now >= primary.createdAt + rotateEverySeconds`; false without a rotation period. */
  readonly rotationDue: boolean;
  /** When the primary version is due for rotation (epoch ms), or null without a rotation period. */
  readonly dueAt: number | null;
  readonly versions: KeyVersionInfo[];
}

/** Pure rotation plan: when the primary is due, and whether it is due at `nowMs`. */
export function rotationStatus(primaryCreatedAtMs: number, rotateEverySeconds: number | null, nowMs: number): { due: boolean; dueAtMs: number | null } {
  if (rotateEverySeconds === null) return { due: false, dueAtMs: null };
  const dueAtMs = primaryCreatedAtMs + rotateEverySeconds * 1000;
  return { due: nowMs >= dueAtMs, dueAtMs };
}

/** KeyInfo from a key row and its version rows (ordered by version, already checked): shared by every key store. */
export function keyInfoFrom(key: KeyRow, versions: readonly VersionRow[], nowMs: number): KeyInfo {
  const primary = versions.find((v) => v.version === key.primary_version);
  const status = rotationStatus(primary?.created_at ?? key.created_at, key.rotate_every_seconds, nowMs);
  return {
    name: key.name,
    primaryVersion: key.primary_version,
    minDecryptVersion: key.min_decrypt_version,
    rotateEverySeconds: key.rotate_every_seconds,
    createdAt: key.created_at,
    rotationDue: status.due,
    dueAt: status.dueAtMs,
    versions: versions.map((v) => ({ version: v.version, state: v.state, createdAt: v.created_at, wrapCount: v.wrap_count, destroyedAt: v.destroyed_at })),
  };
}
