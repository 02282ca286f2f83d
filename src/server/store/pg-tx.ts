/**
 * Transactions on the PostgreSQL store's pool. A client whose ROLLBACK failed is destroyed,
 * not returned to the pool, so the next caller never inherits a half-open transaction.
 */
import type pg from "pg";
import type { PoolClient } from "pg";

/** Runs `fn` between BEGIN and COMMIT; any throw rolls back and is rethrown. */
export async function inTx<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken = false;
  try {
    await c.query("BEGIN");
    const result = await fn(c);
    await c.query("COMMIT");
    return result;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    c.release(broken);
  }
}

/** Runs `fn` on a pooled client outside any explicit transaction. */
export async function withClient<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}
