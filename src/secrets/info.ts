/** What `secret list` and `secret show` print: metadata only, never a value. */
import type { Db } from "../keys/db.js";
import { secretKeyName, secretNamespace } from "./names.js";
import { type SecretRow, type SecretState, type SecretVersionRow, allSecretRows, versionRows } from "./rows.js";

export interface SecretVersionInfo {
  readonly version: number;
  readonly state: SecretState;
  readonly primary: boolean;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly createdBy: string;
  readonly destroyedAt: string | null;
}

export interface SecretInfo {
  readonly name: string;
  readonly namespace: string;
  /** The keystore key that wraps this secret's data keys. */
  readonly keyName: string;
  readonly primaryVersion: number;
  readonly createdAt: string;
  readonly createdBy: string;
  /** The last successful read: when, by whom (principal), for what (e.g. `run: python3`), which version. */
  readonly lastRead: { readonly at: string; readonly by: string; readonly for: string; readonly version: number } | null;
  readonly versions: readonly SecretVersionInfo[];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function secretInfo(db: Db, row: SecretRow): SecretInfo {
  return toSecretInfo(row, versionRows(db, row.name));
}

/** The metadata of a secret from its rows (any store's). */
export function toSecretInfo(row: SecretRow, versions: readonly SecretVersionRow[]): SecretInfo {
  const n = (x: number | string) => Number(x); // PostgreSQL BIGINTs come back as strings
  return {
    name: row.name,
    namespace: secretNamespace(row.name),
    keyName: secretKeyName(row.name),
    primaryVersion: n(row.primary_version),
    createdAt: iso(n(row.created_at)),
    createdBy: row.created_by,
    lastRead:
      row.last_read_at === null
        ? null
        : { at: iso(n(row.last_read_at)), by: row.last_read_by ?? "", for: row.last_read_for ?? "", version: n(row.last_read_version ?? 0) },
    versions: versions.map((v) => ({
      version: n(v.version),
      state: v.state,
      primary: n(v.version) === n(row.primary_version),
      createdAt: iso(n(v.created_at)),
      createdBy: v.created_by,
      destroyedAt: v.destroyed_at === null ? null : iso(n(v.destroyed_at)),
    })),
  };
}

export function listSecretInfos(db: Db): SecretInfo[] {
  return allSecretRows(db).map((r) => secretInfo(db, r));
}
