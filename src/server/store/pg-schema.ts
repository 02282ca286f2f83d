/**
 * PostgreSQL schema of the store: the same logical tables as the SQLite keystore (keys,
 * key_versions with KEKs sealed by the root key, audit, policies) plus `audit_head`, the
 * single-row chain head that every audited transaction locks FOR UPDATE, so records from
 * all replicas form one chain. Migrations are versioned in `schema_migrations` and applied
 * under an advisory lock, so replicas starting together apply each one exactly once.
 */
import type { Pool } from "pg";
import { KeystoreError } from "../../errors.js";

/** Migration N (1-based) brings the schema from N-1 to N. Append only; never edit one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE keys (
    name                 TEXT    PRIMARY KEY,
    primary_version      BIGINT  NOT NULL,
    min_decrypt_version  BIGINT  NOT NULL DEFAULT 1,
    rotate_every_seconds BIGINT,
    created_at           BIGINT  NOT NULL
  );
  CREATE TABLE key_versions (
    key_name     TEXT    NOT NULL REFERENCES keys(name),
    version      BIGINT  NOT NULL CHECK (version >= 1 AND version <= 4294967295),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    kek          BYTEA,
    created_at   BIGINT  NOT NULL,
    wrap_count   BIGINT  NOT NULL DEFAULT 0,
    destroyed_at BIGINT,
    PRIMARY KEY (key_name, version),
    CHECK ((state = 'destroyed') = (kek IS NULL))
  );
  CREATE TABLE audit (
    seq          BIGINT  PRIMARY KEY,
    time         TEXT    NOT NULL,
    principal    TEXT    NOT NULL,
    operation    TEXT    NOT NULL,
    key_name     TEXT,
    key_version  BIGINT,
    object_path  TEXT,
    header_hash  TEXT,
    context      TEXT,
    outcome      TEXT    NOT NULL,
    error_code   TEXT,
    mac          BYTEA   NOT NULL
  );
  CREATE INDEX audit_time ON audit (time);
  CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL,
    mac BYTEA   NOT NULL
  );
  INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, ''::bytea);
  CREATE TABLE policies (
    id          TEXT    PRIMARY KEY,
    yaml        TEXT    NOT NULL,
    proposer    TEXT    NOT NULL,
    proposed_at BIGINT  NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('proposed', 'active', 'superseded')),
    approver    TEXT,
    approved_at BIGINT,
    CHECK ((state = 'proposed') = (approver IS NULL))
  );
  CREATE UNIQUE INDEX policies_one_active ON policies (state) WHERE state = 'active';
  `,
  // 2: the chain head's own MAC (src/audit/head-mac.ts). NULL in a database from before it,
  // until a replica opening it with the root seals it (pg-seal.ts).
  `
  ALTER TABLE audit_head ADD COLUMN tag BYTEA;
  `,
  // 3: key-state MACs (src/keys/key-state.ts); rows of an older database are sealed on the
  // first open with the root key (pg-init.ts).
  `
  ALTER TABLE keys ADD COLUMN state_gen BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE keys ADD COLUMN state_mac BYTEA;
  ALTER TABLE key_versions ADD COLUMN state_gen BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE key_versions ADD COLUMN state_mac BYTEA;
  `,
  // 4: the secret store (src/server/secrets.ts), the same logical tables as src/secrets/schema.ts.
  // A value is stored only sealed under its own data key, wrapped by the key secrets/<namespace>.
  `
  CREATE TABLE secrets (
    name              TEXT    PRIMARY KEY,
    primary_version   BIGINT  NOT NULL CHECK (primary_version >= 1),
    created_at        BIGINT  NOT NULL,
    created_by        TEXT    NOT NULL,
    last_read_at      BIGINT,
    last_read_by      TEXT,
    last_read_for     TEXT,
    last_read_version BIGINT
  );
  CREATE TABLE secret_versions (
    name         TEXT    NOT NULL REFERENCES secrets(name),
    version      BIGINT  NOT NULL CHECK (version >= 1),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    keyring      TEXT    NOT NULL,
    key_name     TEXT    NOT NULL,
    key_version  BIGINT  NOT NULL,
    wrapped_dek  BYTEA,
    sealed       BYTEA,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL,
    destroyed_at BIGINT,
    PRIMARY KEY (name, version),
    CHECK ((state = 'destroyed') = (sealed IS NULL)),
    CHECK ((state = 'destroyed') = (wrapped_dek IS NULL))
  );
  `,
];

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
    const current = rows[0]?.v ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new KeystoreError("KEYSTORE_CORRUPT", `the database has schema version ${current}; this build supports up to ${PG_SCHEMA_VERSION}`);
    }
    for (let v = current + 1; v <= PG_SCHEMA_VERSION; v++) {
      await c.query(MIGRATIONS[v - 1]);
      await c.query("INSERT INTO schema_migrations (version) VALUES ($1)", [v]);
    }
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
