/** Rows of the secret tables and the statements over them. Internal. */
import type { Db } from "../keys/db.js";
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
