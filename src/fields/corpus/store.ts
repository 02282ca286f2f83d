/**
 * corpus.db: the encrypted corpus store, a SQLite file of its own (by default beside the
 * keystore). Same durability settings as the keystore: WAL, synchronous=FULL,
 * secure_delete=ON (a replaced or purged chunk leaves no ciphertext in free pages).
 * Internal.
 */
import { chmodSync, existsSync } from "node:fs";
import Database from "better-sqlite3";
import { KeystoreError } from "../../errors.js";
import { pendingMigrations } from "../../io/migrations.js";

export type CorpusDb = Database.Database;

/** Schema versions (PRAGMA user_version). Append only. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE corpora (
    name              TEXT    PRIMARY KEY,
    keyring           TEXT    NOT NULL,
    key_name          TEXT    NOT NULL,
    key_version       INTEGER NOT NULL,
    wrapped_root      BLOB    NOT NULL,
    vectors           TEXT    NOT NULL CHECK (vectors IN ('plain', 'encrypted')),
    dimensions        INTEGER,
    filter_fields     TEXT    NOT NULL,
    subject_namespace TEXT    NOT NULL,
    seal_count        INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL
  );
  CREATE TABLE chunks (
    seq             INTEGER PRIMARY KEY,
    corpus          TEXT    NOT NULL REFERENCES corpora(name),
    id_ref          BLOB    NOT NULL,
    id_ct           BLOB    NOT NULL,
    subject_key_id  TEXT,
    subject_version INTEGER,
    text_ct         BLOB    NOT NULL,
    metadata_ct     BLOB    NOT NULL,
    vector          BLOB,
    created_at      INTEGER NOT NULL,
    UNIQUE (corpus, id_ref)
  );
  CREATE INDEX chunks_subject ON chunks (subject_key_id);
  CREATE TABLE chunk_tags (
    field TEXT    NOT NULL,
    tag   BLOB    NOT NULL,
    chunk INTEGER NOT NULL REFERENCES chunks(seq) ON DELETE CASCADE,
    PRIMARY KEY (field, tag, chunk)
  ) WITHOUT ROWID;
  CREATE INDEX chunk_tags_chunk ON chunk_tags (chunk);
  `,
];

export interface CorpusRow {
  name: string;
  keyring: string;
  key_name: string;
  key_version: number;
  wrapped_root: Buffer;
  vectors: "plain" | "encrypted";
  dimensions: number | null;
  filter_fields: string;
  subject_namespace: string;
  seal_count: number;
  created_at: number;
}

export interface ChunkRow {
  seq: number;
  corpus: string;
  id_ref: Buffer;
  id_ct: Buffer;
  subject_key_id: string | null;
  subject_version: number | null;
  text_ct: Buffer;
  metadata_ct: Buffer;
  vector: Buffer | null;
  created_at: number;
}

/**
 * Opens (creating when asked) and migrates corpus.db; the file is made mode 0600.
 * @throws KeystoreError(KEYSTORE_CORRUPT) if it is not a usable corpus database;
 *   UsageError-free: a missing file without `create` is KEYSTORE_NOT_INITIALIZED.
 */
export function openCorpusDb(file: string, create: boolean): CorpusDb {
  if (!create && !existsSync(file)) throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", `no corpus store at ${file}; add chunks first`);
  let db: CorpusDb | undefined;
  try {
    db = new Database(file, { fileMustExist: !create });
    chmodSync(file, 0o600);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("secure_delete = ON");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    const open = db;
    open
      .transaction(() => {
        for (const { version, sql } of pendingMigrations(open.pragma("user_version", { simple: true }) as number, MIGRATIONS, `the corpus store ${file}`)) {
          open.exec(sql);
          open.pragma(`user_version = ${version}`);
        }
      })
      .immediate();
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof KeystoreError) throw e;
    throw new KeystoreError("KEYSTORE_CORRUPT", `the corpus store ${file} could not be opened`, { cause: e });
  }
}

/** Checkpoints and truncates the WAL, then closes. */
export function closeCorpusDb(db: CorpusDb): void {
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
