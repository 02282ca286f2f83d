/**
 * Row access for keys and key versions. Internal. Every read for use or display goes
 * through the state check (key-state.ts), so a row edited outside pipeseal is
 * KEYSTORE_CORRUPT wherever it is read; `raw*` reads are for resealing only.
 */
import { KeyError } from "../errors.js";
import type { Db } from "./db.js";
import type { StateSeal } from "./key-state.js";
import { cached } from "../io/statement.js";

export type KeyState = "enabled" | "disabled" | "destroyed";

export interface KeyRow {
  name: string;
  primary_version: number;
  min_decrypt_version: number;
  rotate_every_seconds: number | null;
  created_at: number;
  /** Generation of the key's state (key-state.ts), raised by every administrative change. */
  state_gen: number;
  state_mac: Buffer | null;
}

export interface VersionRow {
  key_name: string;
  version: number;
  state: KeyState;
  kek: Buffer | null;
  created_at: number;
  wrap_count: number;
  destroyed_at: number | null;
  state_gen: number;
  state_mac: Buffer | null;
}

/** What a checked read needs: the connection and the store's state key. */
export interface Rows {
  readonly db: Db;
  readonly seal: StateSeal;
}

/** @throws KeystoreError(KEYSTORE_CORRUPT) for a key row that does not authenticate */
export function findKey(r: Rows, name: string): KeyRow | undefined {
  const key = rawKey(r.db, name);
  return key === undefined ? undefined : r.seal.checkKey(key);
}

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function requireKey(r: Rows, name: string): KeyRow {
  const key = findKey(r, name);
  if (key === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  return key;
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function requireVersion(r: Rows, key: KeyRow, version: number): VersionRow {
  const row = cached(r.db, "SELECT * FROM key_versions WHERE key_name = ? AND version = ?").get(key.name, version) as VersionRow | undefined;
  if (row === undefined) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${key.name}" has no version ${version}`);
  return r.seal.checkVersion(key, row);
}

/** Every version of a checked key, each checked. @throws KeystoreError(KEYSTORE_CORRUPT) */
export function listVersions(r: Rows, key: KeyRow): VersionRow[] {
  return rawVersions(r.db, key.name).map((v) => r.seal.checkVersion(key, v));
}

/** Unchecked reads, for resealing after a change (state-change.ts) and for the migration. */
export function rawKey(db: Db, name: string): KeyRow | undefined {
  return cached(db, "SELECT * FROM keys WHERE name = ?").get(name) as KeyRow | undefined;
}

export function rawVersions(db: Db, name: string): VersionRow[] {
  return cached(db, "SELECT * FROM key_versions WHERE key_name = ? ORDER BY version").all(name) as VersionRow[];
}
