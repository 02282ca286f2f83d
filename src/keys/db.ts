/**
 * The keystore database: one SQLite file, WAL, `synchronous=FULL` (a committed transaction
 * is on disk), `secure_delete=ON` (freed content is zeroed, so a destroyed KEK does not
 * linger in free pages), and versioned migrations recorded as `schema_version` in `meta`.
 */
import Database from "better-sqlite3";
import { AUDIT_TABLE_SQL } from "../audit/schema.js";
import { KeystoreError } from "../errors.js";
import { cached } from "../io/statement.js";

export type Db = Database.Database;

export const KEYSTORE_DB_FILE = "keystore.db";

/** How long a statement waits for another connection's lock before KEYSTORE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite's "database is locked" (SQLITE_BUSY, SQLITE_LOCKED and their extended codes), raised
 * once the busy timeout has passed, as a typed KEYSTORE_BUSY; any other error is returned as is.
 */
export function busyToTyped(e: unknown, file?: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !/^SQLITE_(BUSY|LOCKED)/.test(code)) return e;
  const where = file ? ` ${file}` : "";
  return new KeystoreError(
    "KEYSTORE_BUSY",
    `the keystore database${where} is locked by another process (waited ${BUSY_TIMEOUT_MS / 1000} s); retry, or find what holds it${file ? ` (fuser ${file})` : ""}`,
    { cause: e },
  );
}

/**
 * Runs `work` in one IMMEDIATE transaction (the write lock taken up front, so a concurrent
 * writer waits for the busy timeout instead of failing mid-transaction).
 * @throws KeystoreError(KEYSTORE_BUSY) if the lock stays held past the busy timeout.
 */
export function immediate<T>(db: Db, work: () => T): T {
  try {
    return db.transaction(work).immediate();
  } catch (e) {
    throw busyToTyped(e, db.name);
  }
}

/**
 * wal_checkpoint(TRUNCATE): copies the WAL into the database and truncates it to zero bytes,
 * so no copy of a just-shredded value stays in WAL frames.
 * @returns false if another connection blocked it (it then happens at the next checkpoint or close)
 */
export function truncateWal(db: Db): boolean {
  const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
  return result !== undefined && result.busy === 0;
}

/** Migration N (1-based) brings the schema from version N-1 to N. Append only; never edit one. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE keys (
    name                 TEXT    PRIMARY KEY,
    primary_version      INTEGER NOT NULL,
    min_decrypt_version  INTEGER NOT NULL DEFAULT 1,
    rotate_every_seconds INTEGER,
    created_at           INTEGER NOT NULL
  );
  CREATE TABLE key_versions (
    key_name     TEXT    NOT NULL REFERENCES keys(name),
    version      INTEGER NOT NULL CHECK (version >= 1),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    kek          BLOB,
    created_at   INTEGER NOT NULL,
    wrap_count   INTEGER NOT NULL DEFAULT 0,
    destroyed_at INTEGER,
    PRIMARY KEY (key_name, version),
    CHECK ((state = 'destroyed') = (kek IS NULL))
  );
  ${AUDIT_TABLE_SQL}
  `,
  // 2: the internal CA (src/pki/ca). CA private keys are stored only sealed (sealBuffer under
  // the keystore key named in key_name), so every use of one is an audited unwrap.
  `
  CREATE TABLE pki_ca (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    name            TEXT    NOT NULL,
    trust_domain    TEXT    NOT NULL,
    max_ttl_seconds INTEGER NOT NULL CHECK (max_ttl_seconds >= 1),
    key_name        TEXT    NOT NULL,
    root_cert       TEXT    NOT NULL,
    root_key        BLOB    NOT NULL,
    issuing_cert    TEXT    NOT NULL,
    issuing_key     BLOB    NOT NULL,
    crl_number      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
  );
  CREATE TABLE pki_certs (
    serial            TEXT    PRIMARY KEY,
    identity          TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('server', 'client', 'server+client')),
    dns               TEXT    NOT NULL,
    ip                TEXT    NOT NULL,
    ttl_seconds       INTEGER NOT NULL,
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    revoked_at        INTEGER,
    revocation_reason TEXT,
    replaced_by       TEXT,
    cert_pem          TEXT    NOT NULL,
    issued_at         INTEGER NOT NULL
  );
  CREATE INDEX pki_certs_identity ON pki_certs (identity);
  `,
  // 3: per-subject keys (src/fields/subjects). A subject id is never stored: rows are keyed
  // by a 16-byte HMAC-SHA-256 of it under the namespace's index key. A subject's secret is
  // stored only sealed (AES-256-GCM under the namespace's wrapping key, itself derived from a
  // root wrapped by the keystore key in key_name); erasure sets it NULL and keeps the row as
  // a tombstone, so a later lookup reports "erased" instead of minting a fresh key.
  `
  CREATE TABLE subject_namespaces (
    namespace    TEXT    PRIMARY KEY,
    keyring      TEXT    NOT NULL,
    key_name     TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    wrapped_root BLOB    NOT NULL,
    erase_gen    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
  );
  CREATE TABLE subject_keys (
    namespace   TEXT    NOT NULL REFERENCES subject_namespaces(namespace),
    subject_ref BLOB    NOT NULL CHECK (length(subject_ref) = 16),
    version     INTEGER NOT NULL CHECK (version >= 1),
    state       TEXT    NOT NULL CHECK (state IN ('active', 'erased')),
    secret      BLOB,
    created_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    PRIMARY KEY (namespace, subject_ref, version),
    CHECK ((state = 'erased') = (secret IS NULL))
  ) WITHOUT ROWID;
  `,
  // 4: key-service policies (src/server/store): proposals and the approved policy. At most one
  // row is 'active'; approving a proposal supersedes the previous active one, in the same
  // transaction as its audit record (policy.approve).
  `
  CREATE TABLE server_policies (
    id          TEXT    PRIMARY KEY,
    yaml        TEXT    NOT NULL,
    proposer    TEXT    NOT NULL,
    proposed_at INTEGER NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('proposed', 'active', 'superseded')),
    approver    TEXT,
    approved_at INTEGER,
    CHECK ((state = 'proposed') = (approver IS NULL))
  );
  CREATE UNIQUE INDEX server_policies_one_active ON server_policies (state) WHERE state = 'active';
  `,
  // 5: key-state MACs (src/keys/key-state.ts). Rows of an older keystore have none until it is
  // first opened with its root key, which seals them (open-keystore.ts, seal-legacy.ts).
  `
  ALTER TABLE keys ADD COLUMN state_gen INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE keys ADD COLUMN state_mac BLOB;
  ALTER TABLE key_versions ADD COLUMN state_gen INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE key_versions ADD COLUMN state_mac BLOB;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (or creates) the database file and sets the pragmas.
 * @throws KeystoreError(KEYSTORE_CORRUPT) if the file is not a usable SQLite database.
 */
export function openDb(file: string, options: { create: boolean }): Db {
  let db: Db | undefined;
  try {
    db = new Database(file, { fileMustExist: !options.create, timeout: BUSY_TIMEOUT_MS });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("secure_delete = ON");
    db.pragma("foreign_keys = ON");
    return db;
  } catch (e) {
    db?.close();
    const busy = busyToTyped(e, file);
    if (busy !== e) throw busy;
    throw new KeystoreError("KEYSTORE_CORRUPT", `the keystore database ${file} could not be opened`, { cause: e });
  }
}

/** Applies pending migrations in one transaction. */
export function migrate(db: Db): void {
  // up to date (every open but the first after an upgrade): no write lock, so a reader such as
  // `key list` does not wait for a long writer
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  immediate(db, () => {
    const current = schemaVersion(db);
    if (current > SCHEMA_VERSION) {
      throw new KeystoreError("KEYSTORE_CORRUPT", `the keystore has schema version ${current}; this build supports up to ${SCHEMA_VERSION}`);
    }
    for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v - 1]);
      setMeta(db, "schema_version", String(v));
    }
  });
}

function schemaVersion(db: Db): number {
  const hasMeta = cached(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (hasMeta === undefined) return 0;
  const value = getMeta(db, "schema_version");
  const v = Number(value);
  if (value === null || !Number.isSafeInteger(v) || v < 1) throw new KeystoreError("KEYSTORE_CORRUPT", "the keystore schema version is missing");
  return v;
}

export function getMeta(db: Db, key: string): string | null {
  const row = cached(db, "SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setMeta(db: Db, key: string, value: string): void {
  cached(db, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
}

/** Meta keys for the master key. */
export const META = {
  masterSource: "master_source",
  masterScrypt: "master_scrypt",
  masterCheck: "master_check",
} as const;
