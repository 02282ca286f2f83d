/**
 * Key rows on PostgreSQL for wrap, unwrap and derivation, and the raw reads of the storage
 * seam (pg-key-statements.ts; key administration and KeyInfo are src/keys/admin's, over it).
 * Every read for use is checked against its state MAC (src/keys/key-state.ts, the one rule
 * for every store; the checks are src/keys/rows.ts checkedKey/checkedVersion), so a row
 * edited behind the service's back is KEYSTORE_CORRUPT; the unwrap rules are
 * src/keys/version-rules.ts's. All take a client inside the caller's transaction.
 */
import type { PoolClient } from "pg";
import type { StateSeal } from "../../keys/key-state.js";
import { type KeyRow, type VersionRow, checkedKey, checkedVersion, keyNotFound, versionNotFound } from "../../keys/rows.js";
import { kekForDecrypt } from "../../keys/version-rules.js";

type Lock = "" | "FOR UPDATE" | "FOR SHARE";

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export async function requireKeyPg(c: PoolClient, seal: StateSeal, name: string, lock: Lock = ""): Promise<KeyRow> {
  return checkedKey(seal, name, await rawKeyPg(c, name, lock));
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export async function requireVersionPg(c: PoolClient, seal: StateSeal, key: KeyRow, version: number, lock: "" | "FOR UPDATE" = ""): Promise<VersionRow> {
  return checkedVersion(seal, key, version, await rawVersionPg(c, key.name, version, lock));
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
  if (r === undefined) throw keyNotFound(name);
  if (r.v_version === null) throw versionNotFound(name, version);
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

/**
 * The unwrap rules (unwrap.ts openEntry), after checking both rows' state MACs.
 * @throws KeyError, KeystoreError(KEYSTORE_CORRUPT)
 */
export function checkUnwrappable(seal: StateSeal, name: string, key: KeyRow, row: VersionRow): Buffer {
  seal.checkVersion(seal.checkKey(key), row);
  return kekForDecrypt(name, key, row);
}

/** Unchecked reads: for the checked ones above and the storage seam (pg-key-statements.ts). */
export async function rawKeyPg(c: PoolClient, name: string, lock: Lock): Promise<KeyRow | undefined> {
  return (await c.query<KeyRow>(`SELECT * FROM keys WHERE name = $1 ${lock}`, [name])).rows[0];
}

/** Without the KEK: for display and resealing. */
export async function rawVersionsPg(c: PoolClient, name: string): Promise<VersionRow[]> {
  return (
    await c.query<VersionRow>(
      "SELECT key_name, version, state, created_at, wrap_count, destroyed_at, state_gen, state_mac FROM key_versions WHERE key_name = $1 ORDER BY version",
      [name],
    )
  ).rows;
}

/** One version row with its sealed KEK. */
export async function rawVersionPg(c: PoolClient, name: string, version: number, lock: "" | "FOR UPDATE"): Promise<VersionRow | undefined> {
  return (await c.query<VersionRow>(`SELECT * FROM key_versions WHERE key_name = $1 AND version = $2 ${lock}`, [name, version])).rows[0];
}
