/**
 * Key rows on PostgreSQL: reads (KeyInfo) and the state rules shared with the local keystore
 * (src/keys/version-state.ts, unwrap.ts): the primary is always enabled; destroyed is final;
 * unwrap refuses disabled, destroyed and below-minimum versions. Every read for use or
 * display is checked against its state MAC (src/keys/key-state.ts, the one rule for every
 * store), so a row edited behind the service's back is KEYSTORE_CORRUPT. All take a client
 * inside the caller's transaction.
 */
import type { PoolClient } from "pg";
import { KeyError, KeystoreError } from "../../errors.js";
import { type KeyInfo, keyInfoFrom } from "../../keys/key-info.js";
import { type StateSeal, sealKeySet } from "../../keys/key-state.js";
import type { KeyRow, VersionRow } from "../../keys/rows.js";
import { kekForDecrypt } from "../../keys/version-rules.js";

type Lock = "" | "FOR UPDATE" | "FOR SHARE";

/** @throws KeystoreError(KEYSTORE_CORRUPT) */
export async function findKeyPg(c: PoolClient, seal: StateSeal, name: string, lock: Lock = ""): Promise<KeyRow | undefined> {
  const key = await rawKeyPg(c, name, lock);
  return key === undefined ? undefined : seal.checkKey(key);
}

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export async function requireKeyPg(c: PoolClient, seal: StateSeal, name: string, lock: Lock = ""): Promise<KeyRow> {
  const key = await findKeyPg(c, seal, name, lock);
  if (key === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  return key;
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export async function requireVersionPg(c: PoolClient, seal: StateSeal, key: KeyRow, version: number, lock: "" | "FOR UPDATE" = ""): Promise<VersionRow> {
  const row = (await c.query<VersionRow>(`SELECT * FROM key_versions WHERE key_name = $1 AND version = $2 ${lock}`, [key.name, version])).rows[0];
  if (row === undefined) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${key.name}" has no version ${version}`);
  return seal.checkVersion(key, row);
}

/**
 * A key row and one of its versions in one round trip, UNCHECKED: the group-commit batch
 * keeps them in its snapshot, and each use checks them (checkUnwrappable).
 * @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND)
 */
export async function requireKeyVersionPg(c: PoolClient, name: string, version: number): Promise<{ key: KeyRow; row: VersionRow }> {
  const r = (
    await c.query<
      KeyRow & {
        v_version: number | null;
        state: VersionRow["state"];
        kek: Buffer | null;
        v_created_at: number;
        wrap_count: number;
        destroyed_at: number | null;
        v_state_gen: number;
        v_state_mac: Buffer | null;
      }
    >(
      `SELECT k.*, v.version AS v_version, v.state, v.kek, v.created_at AS v_created_at, v.wrap_count, v.destroyed_at, v.state_gen AS v_state_gen, v.state_mac AS v_state_mac
       FROM keys k LEFT JOIN key_versions v ON v.key_name = k.name AND v.version = $2 WHERE k.name = $1`,
      [name, version],
    )
  ).rows[0];
  if (r === undefined) throw new KeyError("KEY_NOT_FOUND", `no key named "${name}"`);
  if (r.v_version === null) throw new KeyError("KEY_VERSION_NOT_FOUND", `key "${name}" has no version ${version}`);
  const key: KeyRow = {
    name: r.name,
    primary_version: r.primary_version,
    min_decrypt_version: r.min_decrypt_version,
    rotate_every_seconds: r.rotate_every_seconds,
    created_at: r.created_at,
    state_gen: r.state_gen,
    state_mac: r.state_mac,
  };
  return {
    key,
    row: {
      key_name: name,
      version: r.v_version,
      state: r.state,
      kek: r.kek,
      created_at: r.v_created_at,
      wrap_count: r.wrap_count,
      destroyed_at: r.destroyed_at,
      state_gen: r.v_state_gen,
      state_mac: r.v_state_mac,
    },
  };
}

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export async function keyInfoPg(c: PoolClient, seal: StateSeal, name: string, nowMs: number): Promise<KeyInfo> {
  return toInfo(c, seal, await requireKeyPg(c, seal, name), nowMs);
}

/** @throws KeystoreError(KEYSTORE_CORRUPT) if any key's rows do not authenticate */
export async function listKeyInfosPg(c: PoolClient, seal: StateSeal, nowMs: number): Promise<KeyInfo[]> {
  const keys = (await c.query<KeyRow>("SELECT * FROM keys ORDER BY name")).rows;
  const out: KeyInfo[] = [];
  for (const k of keys) out.push(await toInfo(c, seal, seal.checkKey(k), nowMs));
  return out;
}

async function toInfo(c: PoolClient, seal: StateSeal, key: KeyRow, nowMs: number): Promise<KeyInfo> {
  const versions = (await rawVersionsPg(c, key.name)).map((v) => seal.checkVersion(key, v));
  return keyInfoFrom(key, versions, nowMs);
}

/**
 * The unwrap rules (unwrap.ts openEntry), after checking both rows' state MACs.
 * @throws KeyError, KeystoreError(KEYSTORE_CORRUPT)
 */
export function checkUnwrappable(seal: StateSeal, name: string, key: KeyRow, row: VersionRow): Buffer {
  seal.checkVersion(seal.checkKey(key), row);
  return kekForDecrypt(name, key, row);
}

/**
 * Runs `change(key)` on the checked key `name` (locked FOR UPDATE, every version checked),
 * then reseals the key's rows under the next generation (key-state.ts), in the caller's
 * transaction: a row tampered with is refused, never laundered by the next change.
 */
export async function changeKeyStatePg<T>(c: PoolClient, seal: StateSeal, name: string, change: (key: KeyRow) => Promise<T>): Promise<T> {
  const key = await requireKeyPg(c, seal, name, "FOR UPDATE");
  for (const v of await rawVersionsPg(c, name)) seal.checkVersion(key, v);
  const result = await change(key);
  await resealKeyPg(c, seal, name);
  return result;
}

/** Seals the rows of `name` as they are now (after a change, or a key just inserted with generation 0). */
export async function resealKeyPg(c: PoolClient, seal: StateSeal, name: string): Promise<void> {
  const key = await rawKeyPg(c, name, "");
  if (key === undefined) throw new KeystoreError("KEYSTORE_CORRUPT", `key ${name} vanished during a change`);
  const sealed = sealKeySet(seal, key, await rawVersionsPg(c, name));
  await c.query("UPDATE keys SET state_gen = $1, state_mac = $2 WHERE name = $3", [sealed.gen, sealed.keyMac, name]);
  for (const v of sealed.versionMacs)
    await c.query("UPDATE key_versions SET state_gen = $1, state_mac = $2 WHERE key_name = $3 AND version = $4", [sealed.gen, v.mac, name, v.version]);
}

async function rawKeyPg(c: PoolClient, name: string, lock: Lock): Promise<KeyRow | undefined> {
  return (await c.query<KeyRow>(`SELECT * FROM keys WHERE name = $1 ${lock}`, [name])).rows[0];
}

/** Without the KEK: for display and resealing. */
async function rawVersionsPg(c: PoolClient, name: string): Promise<VersionRow[]> {
  return (
    await c.query<VersionRow>(
      "SELECT key_name, version, state, created_at, wrap_count, destroyed_at, state_gen, state_mac FROM key_versions WHERE key_name = $1 ORDER BY version",
      [name],
    )
  ).rows;
}
