/**
 * The secret store's tables in keystore.db, migrated as the `secrets` capability
 * (keys/capability-schema.ts). A value is stored only sealed: `wrapped_dek` is its data key
 * wrapped by the keystore key `secrets/<namespace>`, `sealed` the value under that data key
 * (seal.ts). Destroying a version NULLs both (crypto-shredding) and keeps the row, so
 * `secret show` still tells what existed and when it was destroyed.
 */
export const SECRETS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE secrets (
    name             TEXT    PRIMARY KEY,
    primary_version  INTEGER NOT NULL CHECK (primary_version >= 1),
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    last_read_at     INTEGER,
    last_read_by     TEXT,
    last_read_for    TEXT,
    last_read_version INTEGER
  );
  CREATE TABLE secret_versions (
    name         TEXT    NOT NULL REFERENCES secrets(name),
    version      INTEGER NOT NULL CHECK (version >= 1),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    keyring      TEXT    NOT NULL,
    key_name     TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    wrapped_dek  BLOB,
    sealed       BLOB,
    created_at   INTEGER NOT NULL,
    created_by   TEXT    NOT NULL,
    destroyed_at INTEGER,
    PRIMARY KEY (name, version),
    CHECK ((state = 'destroyed') = (sealed IS NULL)),
    CHECK ((state = 'destroyed') = (wrapped_dek IS NULL))
  ) WITHOUT ROWID;
  `,
];
