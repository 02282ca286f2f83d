/**
 * The storage seam (statements.ts) in SQLite's dialect, for the local keystore and the key
 * service's SQLite store: synchronous (better-sqlite3), run inside the caller's IMMEDIATE
 * transaction (../admin-op.ts), which holds the database's write lock from its start, so no
 * row lock is needed. Statements are prepared once per connection (io/statement.ts).
 */
import { cached } from "../../io/statement.js";
import type { Db } from "../db.js";
import { type KeyRow, rawKey, rawVersion, rawVersions } from "../rows.js";
import { type KeyStatements, type Steps, runSync } from "./statements.js";

/** Runs `steps` on `db`, inside the caller's transaction (or as single statements outside one). */
export function runOnSqlite<T>(db: Db, steps: Steps<T>): T {
  return runSync(steps, sqliteKeyStatements(db));
}

export function sqliteKeyStatements(db: Db): KeyStatements {
  const run = (sql: string, ...values: unknown[]): void => {
    cached(db, sql).run(...values);
  };
  return {
    keyRow: (name) => rawKey(db, name),
    keyRows: () => cached(db, "SELECT * FROM keys ORDER BY name").all() as KeyRow[],
    versionRows: (name) => rawVersions(db, name),
    versionRow: (name, version) => rawVersion(db, name, version),
    insertKey: (name, period, now) =>
      cached(
        db,
        "INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES (?, 1, 1, ?, ?) ON CONFLICT (name) DO NOTHING",
      ).run(name, period, now).changes === 1,
    maxVersion: (name) => (cached(db, "SELECT MAX(version) AS max FROM key_versions WHERE key_name = ?").get(name) as { max: number }).max,
    insertVersion: (name, version, sealedKek, now) =>
      run("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES (?, ?, 'enabled', ?, ?, 0)", name, version, sealedKek, now),
    setPrimary: (name, version) => run("UPDATE keys SET primary_version = ? WHERE name = ?", version, name),
    setVersionState: (name, version, state) => run("UPDATE key_versions SET state = ? WHERE key_name = ? AND version = ?", state, name, version),
    destroyVersion: (name, version, now) =>
      run(
        "UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, ?) WHERE key_name = ? AND version = ?",
        now,
        name,
        version,
      ),
    setMinDecryptVersion: (name, version) => run("UPDATE keys SET min_decrypt_version = ? WHERE name = ?", version, name),
    setWrapCount: (name, version, count, stateMac) =>
      run("UPDATE key_versions SET wrap_count = ?, state_mac = ? WHERE key_name = ? AND version = ?", count, stateMac, name, version),
    writeSeals: (name, sealed) => {
      run("UPDATE keys SET state_gen = ?, state_mac = ? WHERE name = ?", sealed.gen, sealed.keyMac, name);
      const update = cached(db, "UPDATE key_versions SET state_gen = ?, state_mac = ? WHERE key_name = ? AND version = ?");
      for (const v of sealed.versionMacs) update.run(sealed.gen, v.mac, name, v.version);
    },
  };
}
