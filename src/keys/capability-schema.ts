/**
 * Tables that a capability keeps in keystore.db, migrated apart from the keystore's own
 * schema (db.ts): each capability has its own append-only migration list and records its
 * version as `schema_version.<capability>` in `meta`, so adding a capability's tables never
 * renumbers the keystore's migrations. Internal.
 */
import { KeystoreError, UsageError } from "../errors.js";
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
  const read = () => {
    const value = getMeta(db, key);
    const v = value === null ? 0 : Number(value);
    if (!Number.isSafeInteger(v) || v < 0) throw new KeystoreError("KEYSTORE_CORRUPT", `the ${capability} schema version is unreadable`);
    return v;
  };
  if (read() === migrations.length) return; // the common case: no write transaction
  db.transaction(() => {
    const current = read();
    if (current > migrations.length) {
      throw new KeystoreError(
        "KEYSTORE_CORRUPT",
        `the keystore's ${capability} tables have schema version ${current}; this build supports up to ${migrations.length}`,
      );
    }
    for (let v = current + 1; v <= migrations.length; v++) {
      db.exec(migrations[v - 1]);
      setMeta(db, key, String(v));
    }
  }).immediate();
}
