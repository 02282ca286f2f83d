/**
 * The keystore database: one SQLite file, WAL, `synchronous=FULL` (a committed transaction
 * is on disk), `secure_delete=ON` (freed content is zeroed, so a destroyed KEK does not
 * linger in free pages), and versioned migrations recorded as `schema_version` in `meta`.
 */
import Database from "better-sqlite3";
import { KeystoreError } from "../errors.js";
import { pendingMigrations } from "../io/migrations.js";
import { cached } from "../io/statement.js";
import { migrationsOf } from "./schema-history.js";

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

/** The keystore's migrations (schema-history.ts). */
const MIGRATIONS = migrationsOf("keystore");

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
    for (const { version, sql } of pendingMigrations(schemaVersion(db), MIGRATIONS, "the keystore")) {
      db.exec(sql);
      setMeta(db, "schema_version", String(version));
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
