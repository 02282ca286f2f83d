/**
 * The secret store's tables in keystore.db, migrated as the `secrets` capability
 * (keys/capability-schema.ts). They are written once, for this store and the key service's
 * PostgreSQL store, in keys/schema-history.ts, which says what each column holds.
 */
import { migrationsOf } from "../keys/schema-history.js";

export const SECRETS_MIGRATIONS: readonly string[] = migrationsOf("secrets");
