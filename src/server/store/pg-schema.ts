/**
 * PostgreSQL schema of the store: the same tables as the SQLite keystore (keys, key_versions
 * with KEKs sealed by the root key, audit, policies, secrets), written once for both in
 * keys/schema-history.ts, plus `audit_head`, the single-row chain head that every audited
 * transaction locks FOR UPDATE, so records from all replicas form one chain. Migrations are versioned in `schema_migrations` and applied
 * under an advisory lock, so replicas starting together apply each one exactly once.
 */
import type { Pool } from "pg";
import { pendingMigrations } from "../../io/migrations.js";
import { migrationsOf } from "../../keys/schema-history.js";

/** The PostgreSQL store's migrations (keys/schema-history.ts). */
const MIGRATIONS = migrationsOf("postgres");

export const PG_SCHEMA_VERSION = MIGRATIONS.length;
/** Advisory lock ids (pg_advisory_xact_lock). */
export const LOCK = { migrate: 0x7069_7065, init: 0x7069_7066 } as const;

/** Applies pending migrations, each with its schema_migrations row, in one transaction. */
export async function migrate(pool: Pool): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK.migrate]);
    await c.query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const { rows } = await c.query<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
    for (const { version, sql } of pendingMigrations(rows[0]?.v ?? 0, MIGRATIONS, "the database")) {
      await c.query(sql);
      await c.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
    }
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
