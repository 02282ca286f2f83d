/**
 * The storage seam of key administration (src/keys/admin/statements.ts) in PostgreSQL's
 * dialect, on a client inside the caller's transaction (pg-store.ts). Lock order: a change
 * locks its key row FOR UPDATE first (admin/key-rows.ts changeKeyState), so rotation reads
 * MAX(version) under that lock ((key_name, version) is the primary key) and concurrent changes
 * through any replica serialize per key; the audit head is locked after, by the append. A new
 * key's row is locked by its INSERT, whose ON CONFLICT makes a name taken by a concurrent
 * replica KEY_EXISTS rather than a unique violation.
 */
import type { PoolClient } from "pg";
import type { KeyRow } from "../../keys/rows.js";
import { type AsyncKeyStatements, type Steps, runAsync } from "../../keys/admin/statements.js";
import { rawKeyPg, rawVersionPg, rawVersionsPg } from "./pg-keys.js";

/** Runs `steps` on `c`, inside the caller's transaction (or as single statements outside one). */
export async function runOnPg<T>(c: PoolClient, steps: Steps<T>): Promise<T> {
  return runAsync(steps, pgKeyStatements(c));
}

export function pgKeyStatements(c: PoolClient): AsyncKeyStatements {
  const run = async (sql: string, values: unknown[]): Promise<void> => {
    await c.query(sql, values);
  };
  return {
    keyRow: (name, lock) => rawKeyPg(c, name, lock === "update" ? "FOR UPDATE" : lock === "share" ? "FOR SHARE" : ""),
    keyRows: async () => (await c.query<KeyRow>("SELECT * FROM keys ORDER BY name")).rows,
    versionRows: (name) => rawVersionsPg(c, name),
    versionRow: (name, version, lock) => rawVersionPg(c, name, version, lock === "update" ? "FOR UPDATE" : ""),
    insertKey: async (name, period, now) =>
      (
        await c.query(
          "INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES ($1, 1, 1, $2, $3) ON CONFLICT (name) DO NOTHING",
          [name, period, now],
        )
      ).rowCount === 1,
    maxVersion: async (name) => (await c.query<{ max: number }>("SELECT MAX(version) AS max FROM key_versions WHERE key_name = $1", [name])).rows[0].max,
    insertVersion: (name, version, sealedKek, now) =>
      run("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES ($1, $2, 'enabled', $3, $4, 0)", [
        name,
        version,
        sealedKek,
        now,
      ]),
    setPrimary: (name, version) => run("UPDATE keys SET primary_version = $1 WHERE name = $2", [version, name]),
    setVersionState: (name, version, state) => run("UPDATE key_versions SET state = $1 WHERE key_name = $2 AND version = $3", [state, name, version]),
    /** The old row version still holds the KEK until VACUUM (pg-shred.ts, after COMMIT). */
    destroyVersion: (name, version, now) =>
      run("UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, $1) WHERE key_name = $2 AND version = $3", [
        now,
        name,
        version,
      ]),
    setMinDecryptVersion: (name, version) => run("UPDATE keys SET min_decrypt_version = $1 WHERE name = $2", [version, name]),
    setWrapCount: (name, version, count, stateMac) =>
      run("UPDATE key_versions SET wrap_count = $1, state_mac = $2 WHERE key_name = $3 AND version = $4", [count, stateMac, name, version]),
    writeSeals: async (name, sealed) => {
      await c.query("UPDATE keys SET state_gen = $1, state_mac = $2 WHERE name = $3", [sealed.gen, sealed.keyMac, name]);
      for (const v of sealed.versionMacs)
        await c.query("UPDATE key_versions SET state_gen = $1, state_mac = $2 WHERE key_name = $3 AND version = $4", [sealed.gen, v.mac, name, v.version]);
    },
  };
}
