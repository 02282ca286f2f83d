/**
 * Key rows on PostgreSQL: reads (KeyInfo) and the state rules shared with the local keystore
 * (src/keys/version-state.ts, unwrap.ts): the primary is always enabled; destroyed is final;
 * unwrap refuses disabled, destroyed and below-minimum versions. All take a client inside the
 * caller's transaction.
 */
import type { PoolClient } from "pg";
import { KeyError } from "../../errors.js";
import { type KeyInfo, keyInfoFrom } from "../../keys/key-info.js";
import type { KeyRow, VersionRow } from "../../keys/rows.js";

export async function findKeyPg(c: PoolClient, name: string, lock: "" | "FOR UPDATE" | "FOR SHARE" = ""): Promise<KeyRow | undefined> {
  return (await c.query<KeyRow>(`SELECT * FROM keys WHERE name = $1 ${lock}`, [name])).rows[0];
}

/** @throws KeyError(KEY_NOT_FOUND) */
export async function requireKeyPg(c: PoolClient, name: string, lock: "" | "FOR UPDATE" | "FOR SHARE" = ""): Promise<KeyRow> {
  const key = await findKeyPg(c, name, lock);
  if (key === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  return key;
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND) */
export async function requireVersionPg(c: PoolClient, name: string, version: number): Promise<VersionRow> {
  const row = (await c.query<VersionRow>("SELECT * FROM key_versions WHERE key_name = $1 AND version = $2", [name, version])).rows[0];
  if (row === undefined) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${name}" has no version ${version}`);
  return row;
}

/** A key row and one of its versions in one round trip. @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND) */
export async function requireKeyVersionPg(c: PoolClient, name: string, version: number): Promise<{ key: KeyRow; row: VersionRow }> {
  const r = (
    await c.query<KeyRow & { v_version: number | null; state: VersionRow["state"]; kek: Buffer | null; v_created_at: number; wrap_count: number; destroyed_at: number | null }>(
      `SELECT k.*, v.version AS v_version, v.state, v.kek, v.created_at AS v_created_at, v.wrap_count, v.destroyed_at
       FROM keys k LEFT JOIN key_versions v ON v.key_name = k.name AND v.version = $2 WHERE k.name = $1`,
      [name, version],
    )
  ).rows[0];
  if (r === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  if (r.v_version === null) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${name}" has no version ${version}`);
  const key: KeyRow = { name: r.name, primary_version: r.primary_version, min_decrypt_version: r.min_decrypt_version, rotate_every_seconds: r.rotate_every_seconds, created_at: r.created_at };
  return { key, row: { key_name: name, version: r.v_version, state: r.state, kek: r.kek, created_at: r.v_created_at, wrap_count: r.wrap_count, destroyed_at: r.destroyed_at } };
}

/** @throws KeyError(KEY_NOT_FOUND) */
export async function keyInfoPg(c: PoolClient, name: string, nowMs: number): Promise<KeyInfo> {
  return toInfo(c, await requireKeyPg(c, name), nowMs);
}

export async function listKeyInfosPg(c: PoolClient, nowMs: number): Promise<KeyInfo[]> {
  const keys = (await c.query<KeyRow>("SELECT * FROM keys ORDER BY name")).rows;
  const out: KeyInfo[] = [];
  for (const k of keys) out.push(await toInfo(c, k, nowMs));
  return out;
}

async function toInfo(c: PoolClient, key: KeyRow, nowMs: number): Promise<KeyInfo> {
  const versions = (await c.query<VersionRow>("SELECT key_name, version, state, created_at, wrap_count, destroyed_at FROM key_versions WHERE key_name = $1 ORDER BY version", [key.name])).rows;
  return keyInfoFrom(key, versions as VersionRow[], nowMs);
}

/** The unwrap state rules (unwrap.ts openEntry). @throws KeyError */
export function checkUnwrappable(name: string, key: KeyRow, row: VersionRow): Buffer {
  const version = row.version;
  if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${name} v${version} was destroyed`);
  if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${name} v${version} is disabled`);
  if (version < key.min_decrypt_version) {
    throw new KeyError("KEY_BELOW_MIN_VERSION", `${name} v${version} is below the minimum decryption version ${key.min_decrypt_version}`);
  }
  return row.kek;
}
