/**
 * The PostgreSQL store, shared by any number of `pipeseal serve` replicas: opening it.
 *
 * Where each idea lives: the class and its methods (pg-store.ts); group commit of unwraps
 * and decision records (pg-batch.ts, pg-unwrap.ts); the audit chain (pg-audit.ts); key
 * administration (src/keys/admin over pg-key-statements.ts) and crypto-shredding (pg-shred.ts); wrap (pg-wrap.ts);
 * derived keys (pg-derive.ts); policies (pg-policies.ts); schema and migrations
 * (pg-schema.ts); the root key check (pg-init.ts).
 *
 * Concurrency: a change locks its key row FOR UPDATE, then the single-row audit head; a
 * group-commit batch takes no row locks and locks the head once, last. Locks are always taken
 * in that order, so replicas never deadlock, versions stay contiguous, and the chain stays
 * linear. Every change and its record commit in one transaction. An unwrap's record commits
 * before the key is returned; if the commit fails the key is wiped and AUDIT_WRITE_FAILED is
 * thrown (fail closed).
 */
import pg from "pg";
import type { PoolConfig } from "pg";
import { UsageError } from "../../errors.js";
import type { RootKey } from "../../keys/root-key.js";
import { MAX_WRAPS_PER_VERSION } from "../../keys/wrap-format.js";
import { markUnsealed } from "./pg-audit.js";
import { initOrCheck, sealKeyStatePg } from "./pg-init.js";
import { sealPgHead } from "./pg-seal.js";
import { auditKeyOf } from "./root.js";
import { migrate } from "./pg-schema.js";
import { PostgresStore } from "./pg-store.js";
import type { RootSource } from "./root.js";

export { PostgresStore };

export interface PostgresStoreOptions {
  /** node-postgres pool settings (host, port, database, user, TLS, max). */
  readonly pool: PoolConfig;
  readonly root: RootSource;
  /** Initialise an empty database (records the root's check value and the `init` audit record). */
  readonly create?: boolean;
  /** Principal recorded for `init`. */
  readonly servicePrincipal?: string;
  readonly maxWrapsPerVersion?: number;
  /** Most requests per group-commit transaction (default 128). */
  readonly maxBatch?: number;
  /** Best-effort failures (VACUUM after a destroy). Default: process.emitWarning. */
  readonly warn?: (message: string) => void;
  readonly now?: () => number;
}

const INT8 = 20;
const NUMERIC_INT8 = (v: string) => Number(v); // every BIGINT here is < 2^53

/**
 * Opens (and with `create`, initialises) the store.
 * @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | KEYSTORE_CORRUPT | MASTER_KEY_WRONG | MASTER_KEY_UNAVAILABLE | MASTER_KEY_INSECURE),
 *   UsageError(INVALID_ARGUMENT); connection errors from pg.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const limit = options.maxWrapsPerVersion ?? MAX_WRAPS_PER_VERSION;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_WRAPS_PER_VERSION)
    throw new UsageError("INVALID_ARGUMENT", "maxWrapsPerVersion must be an integer in 1..2^32");
  const pool = new pg.Pool({
    ...options.pool,
    types: { getTypeParser: (oid: number, format?: string): unknown => (oid === INT8 ? NUMERIC_INT8 : pg.types.getTypeParser(oid, format as "text")) },
  });
  pool.on("error", () => undefined); // an idle client's error must not crash the process; the next query reports it
  const now = options.now ?? Date.now;
  let root: RootKey | undefined;
  try {
    await migrate(pool);
    root = await initOrCheck(pool, options, now);
    // a database from before head MACs, then one from before key-state MACs, each sealed once:
    // the head first, since sealing the key state appends a record to it
    const principal = options.servicePrincipal ?? "pipeseal-serve";
    const { mac } = auditKeyOf(root);
    if ((await sealPgHead(pool, mac, principal, now)) === "unsealed") markUnsealed(mac);
    await sealKeyStatePg(pool, root, principal, now());
    return new PostgresStore(pool, root, {
      maxWrapsPerVersion: limit,
      now,
      ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
      warn: options.warn ?? ((message) => process.emitWarning(message, { code: "PIPESEAL_STORE" })),
    });
  } catch (e) {
    root?.close();
    await pool.end().catch(() => undefined);
    throw e;
  }
}
