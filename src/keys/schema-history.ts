/**
 * The schema history of the key stores, once. Every table of the local keystore (keystore.db,
 * which is also the key service's SQLite store), of its secret store, and of the key service's
 * PostgreSQL store is written here a single time, in the words of sql-dialect.ts, and each store's
 * migration list is drawn from this one history by `migrationsOf`.
 *
 * A step says which version it belongs to in each store's list. The numbers differ because the
 * released lists did: the keystore had the CA and subject keys before PostgreSQL existed, and
 * PostgreSQL keeps the chain head in a table where SQLite keeps it in `meta`. Steps that share a
 * version are one migration, applied in the order they appear here. A released migration is never
 * edited: test/keys/schema-history.test.ts checks each store's schema against the released SQL
 * (test/keys/fixtures/released-schema), and databases made by earlier releases migrate to it.
 */
import { auditTableSql } from "../audit/schema.js";
import { SQL_TYPES, type SqlDialect, type SqlTypes } from "../io/sql-dialect.js";

/** The migration lists drawn from the history: the keystore's own, its `secrets` capability's, and PostgreSQL's. */
export type SchemaList = "keystore" | "secrets" | "postgres";

const DIALECT: Readonly<Record<SchemaList, SqlDialect>> = { keystore: "sqlite", secrets: "sqlite", postgres: "postgres" };

interface Step {
  /** The version this step is part of, in each list that has it. */
  readonly in: Partial<Record<SchemaList, number>>;
  readonly sql: (t: SqlTypes) => string;
}

const HISTORY: readonly Step[] = [
  {
    in: { keystore: 1, postgres: 1 },
    sql: (t) => `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE keys (
    name                 TEXT    PRIMARY KEY,
    primary_version      ${t.int} NOT NULL,
    min_decrypt_version  ${t.int} NOT NULL DEFAULT 1,
    rotate_every_seconds ${t.int},
    created_at           ${t.int} NOT NULL
  );
  CREATE TABLE key_versions (
    key_name     TEXT    NOT NULL REFERENCES keys(name),
    version      ${t.int} NOT NULL CHECK (version >= 1${
      // written later, the PostgreSQL schema also bounds a version to 32 bits in the table;
      // the keystore's released migration does not, and names.ts validateVersion checks it for both
      t.dialect === "postgres" ? " AND version <= 4294967295" : ""
    }),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    kek          ${t.blob},
    created_at   ${t.int} NOT NULL,
    wrap_count   ${t.int} NOT NULL DEFAULT 0,
    destroyed_at ${t.int},
    PRIMARY KEY (key_name, version),
    CHECK ((state = 'destroyed') = (kek IS NULL))
  );
  ${auditTableSql(t)}
  `,
  },
  {
    // the chain head every audited transaction locks FOR UPDATE, so all replicas write one chain
    in: { postgres: 1 },
    sql: () => `
  CREATE TABLE audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL,
    mac BYTEA   NOT NULL
  );
  INSERT INTO audit_head (id, seq, mac) VALUES (1, 0, ''::bytea);
  `,
  },
  {
    // the internal CA (src/pki/ca). CA private keys are stored only sealed (sealBuffer under the
    // keystore key named in key_name), so every use of one is an audited unwrap.
    in: { keystore: 2 },
    sql: (t) => `
  CREATE TABLE pki_ca (
    id              ${t.int} PRIMARY KEY CHECK (id = 1),
    name            TEXT    NOT NULL,
    trust_domain    TEXT    NOT NULL,
    max_ttl_seconds ${t.int} NOT NULL CHECK (max_ttl_seconds >= 1),
    key_name        TEXT    NOT NULL,
    root_cert       TEXT    NOT NULL,
    root_key        ${t.blob} NOT NULL,
    issuing_cert    TEXT    NOT NULL,
    issuing_key     ${t.blob} NOT NULL,
    crl_number      ${t.int} NOT NULL DEFAULT 0,
    created_at      ${t.int} NOT NULL
  );
  CREATE TABLE pki_certs (
    serial            TEXT    PRIMARY KEY,
    identity          TEXT    NOT NULL,
    kind              TEXT    NOT NULL CHECK (kind IN ('server', 'client', 'server+client')),
    dns               TEXT    NOT NULL,
    ip                TEXT    NOT NULL,
    ttl_seconds       ${t.int} NOT NULL,
    not_before        ${t.int} NOT NULL,
    not_after         ${t.int} NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    revoked_at        ${t.int},
    revocation_reason TEXT,
    replaced_by       TEXT,
    cert_pem          TEXT    NOT NULL,
    issued_at         ${t.int} NOT NULL
  );
  CREATE INDEX pki_certs_identity ON pki_certs (identity);
  `,
  },
  {
    // per-subject keys (src/fields/subjects). A subject id is never stored: rows are keyed by a
    // 16-byte HMAC-SHA-256 of it under the namespace's index key. A subject's secret is stored
    // only sealed (AES-256-GCM under the namespace's wrapping key, itself derived from a root
    // wrapped by the keystore key in key_name); erasure sets it NULL and keeps the row as a
    // tombstone, so a later lookup reports "erased" instead of minting a fresh key.
    in: { keystore: 3 },
    sql: (t) => `
  CREATE TABLE subject_namespaces (
    namespace    TEXT    PRIMARY KEY,
    keyring      TEXT    NOT NULL,
    key_name     TEXT    NOT NULL,
    key_version  ${t.int} NOT NULL,
    wrapped_root ${t.blob} NOT NULL,
    erase_gen    ${t.int} NOT NULL DEFAULT 0,
    created_at   ${t.int} NOT NULL
  );
  CREATE TABLE subject_keys (
    namespace   TEXT    NOT NULL REFERENCES subject_namespaces(namespace),
    subject_ref ${t.blob} NOT NULL CHECK (length(subject_ref) = 16),
    version     ${t.int} NOT NULL CHECK (version >= 1),
    state       TEXT    NOT NULL CHECK (state IN ('active', 'erased')),
    secret      ${t.blob},
    created_at  ${t.int} NOT NULL,
    erased_at   ${t.int},
    PRIMARY KEY (namespace, subject_ref, version),
    CHECK ((state = 'erased') = (secret IS NULL))
  )${t.withoutRowid};
  `,
  },
  {
    // key-service policies (src/server/store): proposals and the approved policy. At most one row
    // is 'active'; approving a proposal supersedes the previous active one, in the same transaction
    // as its audit record (policy.approve). In keystore.db, which holds the CLI's tables too, the
    // table's name says it is the service's.
    in: { postgres: 1, keystore: 4 },
    sql: (t) => {
      const table = t.dialect === "sqlite" ? "server_policies" : "policies";
      return `
  CREATE TABLE ${table} (
    id          TEXT    PRIMARY KEY,
    yaml        TEXT    NOT NULL,
    proposer    TEXT    NOT NULL,
    proposed_at ${t.int} NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('proposed', 'active', 'superseded')),
    approver    TEXT,
    approved_at ${t.int},
    CHECK ((state = 'proposed') = (approver IS NULL))
  );
  CREATE UNIQUE INDEX ${table}_one_active ON ${table} (state) WHERE state = 'active';
  `;
    },
  },
  {
    // the chain head's own MAC (src/audit/head-mac.ts). NULL in a database from before it, until a
    // replica opening it with the root seals it (pg-seal.ts). SQLite keeps its head, MAC and all, in meta.
    in: { postgres: 2 },
    sql: () => `
  ALTER TABLE audit_head ADD COLUMN tag BYTEA;
  `,
  },
  {
    // key-state MACs (src/keys/key-state.ts). Rows of an older store have none until it is first
    // opened with its root key, which seals them (open-keystore.ts and seal-legacy.ts; pg-init.ts).
    in: { keystore: 5, postgres: 3 },
    sql: (t) => `
  ALTER TABLE keys ADD COLUMN state_gen ${t.int} NOT NULL DEFAULT 0;
  ALTER TABLE keys ADD COLUMN state_mac ${t.blob};
  ALTER TABLE key_versions ADD COLUMN state_gen ${t.int} NOT NULL DEFAULT 0;
  ALTER TABLE key_versions ADD COLUMN state_mac ${t.blob};
  `,
  },
  {
    // the secret store (src/secrets, src/server/secrets.ts). A value is stored only sealed:
    // `wrapped_dek` is its data key wrapped by the key secrets/<namespace>, `sealed` the value under
    // that data key (secrets/seal.ts). Destroying a version NULLs both (crypto-shredding) and keeps
    // the row, so `secret show` still tells what existed and when it was destroyed.
    in: { secrets: 1, postgres: 4 },
    sql: (t) => `
  CREATE TABLE secrets (
    name              TEXT    PRIMARY KEY,
    primary_version   ${t.int} NOT NULL CHECK (primary_version >= 1),
    created_at        ${t.int} NOT NULL,
    created_by        TEXT    NOT NULL,
    last_read_at      ${t.int},
    last_read_by      TEXT,
    last_read_for     TEXT,
    last_read_version ${t.int}
  );
  CREATE TABLE secret_versions (
    name         TEXT    NOT NULL REFERENCES secrets(name),
    version      ${t.int} NOT NULL CHECK (version >= 1),
    state        TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'destroyed')),
    keyring      TEXT    NOT NULL,
    key_name     TEXT    NOT NULL,
    key_version  ${t.int} NOT NULL,
    wrapped_dek  ${t.blob},
    sealed       ${t.blob},
    created_at   ${t.int} NOT NULL,
    created_by   TEXT    NOT NULL,
    destroyed_at ${t.int},
    PRIMARY KEY (name, version),
    CHECK ((state = 'destroyed') = (sealed IS NULL)),
    CHECK ((state = 'destroyed') = (wrapped_dek IS NULL))
  )${t.withoutRowid};
  `,
  },
];

/**
 * One list's migrations, drawn from the history: migration N is the SQL of its version-N steps,
 * in history order.
 * @throws Error if the list's versions are not 1..N without a gap (a mistake in HISTORY, found at load).
 */
export function migrationsOf(list: SchemaList): readonly string[] {
  const t = SQL_TYPES[DIALECT[list]];
  const migrations: string[][] = [];
  for (const step of HISTORY) {
    const version = step.in[list];
    if (version !== undefined) (migrations[version - 1] ??= []).push(step.sql(t));
  }
  const gap = Array.from(migrations, (m, i) => (m === undefined ? i + 1 : 0)).find((v) => v !== 0);
  if (gap !== undefined) throw new Error(`schema history: ${list} has no migration ${gap}`);
  return migrations.map((parts) => parts.join(""));
}
