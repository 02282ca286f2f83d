/**
 * Tables that a capability keeps in keystore.db, migrated apart from the keystore's own
 * schema (db.ts): each capability has its own append-only migration list and records its
 * version as `schema_version.<capability>` in `meta`, so adding a capability's tables never
 * renumbers the keystore's migrations. Internal.
 */
import { UsageError } from "../errors.js";
import { pendingMigrations } from "../io/migrations.js";
import { type Db, getMeta, setMeta } from "./db.js";

const CAPABILITY = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Applies the pending migrations of `capability` in one IMMEDIATE transaction (so two processes
 * opening the store at once cannot both run one). Migration N brings the capability's tables
 * from version N-1 to N; append only, never edit one.
 * @throws UsageError(INVALID_ARGUMENT) for a bad capability name; KeystoreError(KEYSTORE_CORRUPT)
 *   when the file was written by a build that knows more migrations than this one.
 */
export function ensureCapabilitySchema(db: Db, capability: string, migrations: readonly string[]): void {
  if (!CAPABILITY.test(capability)) throw new UsageError("INVALID_ARGUMENT", "a capability name is lowercase letters, digits and dashes");
  const key = `schema_version.${capability}`;
  const what = `the keystore's ${capability} tables`;
  const read = () => {
    const value = getMeta(db, key);
    return value === null ? 0 : Number(value);
  };
  if (read() === migrations.length) return; // the common case: no write transaction
  db.transaction(() => {
    for (const { version, sql } of pendingMigrations(read(), migrations, what)) {
      db.exec(sql);
      setMeta(db, key, String(version));
    }
  }).immediate();
}
