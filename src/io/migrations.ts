/**
 * The one rule of every schema migration in pipeseal: migration N (1-based) brings a schema from
 * version N-1 to N, lists are append only, and a schema newer than this build knows is refused,
 * never touched. Each store runs the steps in its own transaction and records the version its
 * own way (the keystore's `meta`, a corpus file's user_version, PostgreSQL's schema_migrations).
 */
import { KeystoreError } from "../errors.js";

export interface PendingMigration {
  readonly version: number;
  readonly sql: string;
}

/**
 * The migrations a schema at version `current` still needs, oldest first (none when it is up to date).
 * @param what names the schema in the error, e.g. "the keystore" or "the corpus store F".
 * @throws KeystoreError(KEYSTORE_CORRUPT) when `current` is newer than the last migration, or not a version.
 */
export function pendingMigrations(current: number, migrations: readonly string[], what: string): PendingMigration[] {
  if (!Number.isSafeInteger(current) || current < 0) throw new KeystoreError("KEYSTORE_CORRUPT", `${what} has an unreadable schema version`);
  if (current > migrations.length) {
    throw new KeystoreError("KEYSTORE_CORRUPT", `${what} has schema version ${current}; this build supports up to ${migrations.length}`);
  }
  return migrations.slice(current).map((sql, i) => ({ version: current + i + 1, sql }));
}
