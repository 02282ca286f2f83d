/** Rows of the secret tables and the statements over them. Internal. */
import type { Db } from "../keys/db.js";
import { KeyError } from "../errors.js";
import { cached } from "../io/statement.js";

export type SecretState = "enabled" | "disabled" | "destroyed";

export interface SecretRow {
  readonly name: string;
  readonly primary_version: number;
  readonly created_at: number;
  readonly created_by: string;
  readonly last_read_at: number | null;
  readonly last_read_by: string | null;
  readonly last_read_for: string | null;
  readonly last_read_version: number | null;
}

export interface SecretVersionRow {
  readonly name: string;
  readonly version: number;
  readonly state: SecretState;
  readonly keyring: string;
  readonly key_name: string;
  readonly key_version: number;
  readonly wrapped_dek: Buffer | null;
  readonly sealed: Buffer | null;
  readonly created_at: number;
  readonly created_by: string;
  readonly destroyed_at: number | null;
}

export function secretRow(db: Db, name: string): SecretRow | undefined {
  return cached(db, "SELECT * FROM secrets WHERE name = ?").get(name) as SecretRow | undefined;
}

export function allSecretRows(db: Db): SecretRow[] {
  return cached(db, "SELECT * FROM secrets ORDER BY name").all() as SecretRow[];
}

export function versionRow(db: Db, name: string, version: number): SecretVersionRow | undefined {
  return cached(db, "SELECT * FROM secret_versions WHERE name = ? AND version = ?").get(name, version) as SecretVersionRow | undefined;
}

export function versionRows(db: Db, name: string): SecretVersionRow[] {
  return cached(db, "SELECT * FROM secret_versions WHERE name = ? ORDER BY version").all(name) as SecretVersionRow[];
}

export function maxVersion(db: Db, name: string): number {
  const row = cached(db, "SELECT MAX(version) AS v FROM secret_versions WHERE name = ?").get(name) as { v: number | null };
  return row.v ?? 0;
}

/** A new version to store (every store: the local keystore, the key service's SQLite and PostgreSQL). */
export interface NewSecretVersion {
  readonly name: string;
  readonly version: number;
  readonly keyring: string;
  readonly keyName: string;
  readonly keyVersion: number;
  readonly wrapped: Uint8Array;
  readonly sealed: Buffer;
  readonly at: number;
  readonly by: string;
}

/**
 * Adds `v` as the secret's new primary version (creating the secret at version 1), inside the
 * caller's transaction. Returns false, changing nothing, when `v.version` is not the next
 * version (another writer added one meanwhile: retry with a fresh count).
 */
export function insertSecretVersion(db: Db, v: NewSecretVersion): boolean {
  if (maxVersion(db, v.name) + 1 !== v.version) return false;
  if (v.version === 1) db.prepare("INSERT INTO secrets (name, primary_version, created_at, created_by) VALUES (?, 1, ?, ?)").run(v.name, v.at, v.by);
  else db.prepare("UPDATE secrets SET primary_version = ? WHERE name = ?").run(v.version, v.name);
  db.prepare(
    "INSERT INTO secret_versions (name, version, state, keyring, key_name, key_version, wrapped_dek, sealed, created_at, created_by) VALUES (?, ?, 'enabled', ?, ?, ?, ?, ?, ?, ?)",
  ).run(v.name, v.version, v.keyring, v.keyName, v.keyVersion, Buffer.from(v.wrapped), v.sealed, v.at, v.by);
  return true;
}

/** Records the last successful read (what `secret show` reports). */
export function markRead(db: Db, name: string, version: number, by: string, purpose: string, at: number): void {
  db.prepare("UPDATE secrets SET last_read_at = ?, last_read_by = ?, last_read_for = ?, last_read_version = ? WHERE name = ?").run(
    at,
    by,
    purpose,
    version,
    name,
  );
}

/**
 * The state rules of a read, in one place (every store calls it): the version must exist,
 * not be destroyed (its value and data key gone) and not be disabled.
 * @throws KeyError(SECRET_NOT_FOUND | SECRET_DESTROYED | SECRET_DISABLED)
 */
export function readableVersion(name: string, version: number, v: SecretVersionRow | undefined): SecretVersionRow & { wrapped_dek: Buffer; sealed: Buffer } {
  if (v === undefined) throw new KeyError("SECRET_NOT_FOUND", `${name} has no version ${version}`);
  if (v.state === "destroyed" || v.sealed === null || v.wrapped_dek === null) throw new KeyError("SECRET_DESTROYED", `${name} v${version} was destroyed`);
  if (v.state === "disabled") throw new KeyError("SECRET_DISABLED", `${name} v${version} is disabled`);
  return v as SecretVersionRow & { wrapped_dek: Buffer; sealed: Buffer };
}

export type SecretStateChange = "disable" | "enable" | "destroy";

/**
 * The state rules of a change to one version, in one place (the local store and both key
 * service stores call it): the version exists; a destroyed one stays destroyed; the primary
 * is never disabled or destroyed alone (rotate first, or destroy every version).
 * @returns the new state. @throws KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT)
 */
export function plannedState(change: SecretStateChange, secret: SecretRow, version: number, v: SecretVersionRow | undefined, all = false): SecretState {
  const name = secret.name;
  if (v === undefined) throw new KeyError("SECRET_NOT_FOUND", `${name} has no version ${version}`);
  if (change === "destroy") {
    if (!all && Number(secret.primary_version) === version)
      throw new KeyError("SECRET_STATE_CONFLICT", `${name} v${version} is the primary version and cannot be destroyed alone; rotate first, or destroy --all`);
    return "destroyed";
  }
  if (v.state === "destroyed")
    throw new KeyError(
      "SECRET_STATE_CONFLICT",
      change === "enable" ? `${name} v${version} is destroyed and cannot be enabled` : `${name} v${version} is destroyed`,
    );
  if (change === "disable" && Number(secret.primary_version) === version)
    throw new KeyError("SECRET_STATE_CONFLICT", `${name} v${version} is the primary version and cannot be disabled; rotate first`);
  return change === "disable" ? "disabled" : "enabled";
}

/** Applies {@link plannedState} to rows of the SQLite tables (the local store and the key service's SQLite store). */
export function applyStateChange(db: Db, change: SecretStateChange, secret: SecretRow, version: number | "all", at: number): void {
  const versions = version === "all" ? versionRows(db, secret.name).map((v) => v.version) : [version];
  for (const n of versions) {
    const state = plannedState(change, secret, n, versionRow(db, secret.name, n), version === "all");
    if (state === "destroyed")
      db.prepare(
        "UPDATE secret_versions SET state = 'destroyed', wrapped_dek = NULL, sealed = NULL, destroyed_at = COALESCE(destroyed_at, ?) WHERE name = ? AND version = ?",
      ).run(at, secret.name, n);
    else db.prepare("UPDATE secret_versions SET state = ? WHERE name = ? AND version = ?").run(state, secret.name, n);
  }
}
