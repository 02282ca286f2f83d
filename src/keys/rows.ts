/** Row access for keys and key versions. Internal. */
import { KeyError } from "../errors.js";
import type { Db } from "./db.js";
import { cached } from "../io/statement.js";

export type KeyState = "enabled" | "disabled" | "destroyed";

export interface KeyRow {
  name: string;
  primary_version: number;
  min_decrypt_version: number;
  rotate_every_seconds: number | null;
  created_at: number;
}

export interface VersionRow {
  key_name: string;
  version: number;
  state: KeyState;
  kek: Buffer | null;
  created_at: number;
  wrap_count: number;
  destroyed_at: number | null;
}

export function findKey(db: Db, name: string): KeyRow | undefined {
  return cached(db, "SELECT * FROM keys WHERE name = ?").get(name) as KeyRow | undefined;
}

/** @throws KeyError(KEY_NOT_FOUND) */
export function requireKey(db: Db, name: string): KeyRow {
  const key = findKey(db, name);
  if (key === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  return key;
}

export function findVersion(db: Db, name: string, version: number): VersionRow | undefined {
  return cached(db, "SELECT * FROM key_versions WHERE key_name = ? AND version = ?").get(name, version) as VersionRow | undefined;
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND) */
export function requireVersion(db: Db, name: string, version: number): VersionRow {
  const row = findVersion(db, name, version);
  if (row === undefined) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${name}" has no version ${version}`);
  return row;
}

export function listVersions(db: Db, name: string): VersionRow[] {
  return cached(db, "SELECT * FROM key_versions WHERE key_name = ? ORDER BY version").all(name) as VersionRow[];
}
