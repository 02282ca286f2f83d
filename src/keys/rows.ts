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

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function requireKey(r: Rows, name: string): KeyRow {
  return checkedKey(r.seal, name, rawKey(r.db, name));
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function requireVersion(r: Rows, key: KeyRow, version: number): VersionRow {
  return checkedVersion(r.seal, key, version, rawVersion(r.db, key.name, version));
}

/**
 * A key row as read, checked: the one rule for every store and dialect (admin/key-rows.ts,
 * server/store/pg-keys.ts use it too). @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT)
 */
export function checkedKey(seal: StateSeal, name: string, row: KeyRow | undefined): KeyRow {
  if (row === undefined) throw keyNotFound(name);
  return seal.checkKey(row);
}

/** A version row of the checked `key` as read, checked. @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function checkedVersion(seal: StateSeal, key: KeyRow, version: number, row: VersionRow | undefined): VersionRow {
  if (row === undefined) throw versionNotFound(key.name, version);
  return seal.checkVersion(key, row);
}

/** The errors for a missing key or version, whichever store and read found it missing. */
export function keyNotFound(name: string): KeyError {
  return new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
}

export function versionNotFound(name: string, version: number): KeyError {
  return new KeyError("KEY_VERSION_NOT_FOUND", `key "${name}" has no version ${version}`);
}

/** Unchecked reads, for resealing after a change (admin/sqlite-statements.ts) and for the migration. */
export function rawKey(db: Db, name: string): KeyRow | undefined {
  return cached(db, "SELECT * FROM keys WHERE name = ?").get(name) as KeyRow | undefined;
}

export function rawVersions(db: Db, name: string): VersionRow[] {
  return cached(db, "SELECT * FROM key_versions WHERE key_name = ? ORDER BY version").all(name) as VersionRow[];
}

/** One version row with its sealed KEK. */
export function rawVersion(db: Db, name: string, version: number): VersionRow | undefined {
  return cached(db, "SELECT * FROM key_versions WHERE key_name = ? AND version = ?").get(name, version) as VersionRow | undefined;
}
