/**
 * Crypto-shredding on PostgreSQL. `UPDATE … SET kek = NULL` writes a new row version; the old
 * ones (every wrap_count update made another copy) still hold the wrapped KEK as dead tuples.
 * A plain VACUUM prunes them but only compacts the page: the freed bytes stay in the data file
 * (measured: the KEK is still found there after VACUUM + CHECKPOINT). VACUUM FULL rewrites the
 * table into a new file from the live rows only and unlinks the old file, so the heap file no
 * longer holds the KEK. It takes an ACCESS EXCLUSIVE lock on this small table for a few
 * milliseconds (unwraps wait; no deadlock: a batch holds the audit head and never waits on
 * anything the rewrite holds). It cannot run inside a transaction and can fail (lock timeout,
 * permissions), so it is best effort and reported, never thrown: the destroy has committed.
 *
 * What this does not reach: WAL segments written before the destroy (recycled after the
 * next checkpoints; archived WAL and base backups keep them) and the blocks of the unlinked
 * file until the filesystem reuses them.
 */
import type pg from "pg";
import { withClient } from "./pg-tx.js";

/**
 * VACUUM FULL of key_versions (the rewritten file reaches the disk at the next checkpoint).
 * @returns true if the VACUUM ran; on failure `warn` gets a message (no secret in it).
 */
export async function vacuumKeyVersions(pool: pg.Pool, warn: (message: string) => void): Promise<boolean> {
  return vacuumFull(pool, "key_versions", "the destroyed KEK", warn);
}

/** The same for secret_versions after a secret version is destroyed (its wrapped data key and sealed value). */
export async function vacuumSecretVersions(pool: pg.Pool, warn: (message: string) => void): Promise<boolean> {
  return vacuumFull(pool, "secret_versions", "the destroyed secret", warn);
}

async function vacuumFull(pool: pg.Pool, table: "key_versions" | "secret_versions", what: string, warn: (message: string) => void): Promise<boolean> {
  try {
    await withClient(pool, async (c) => {
      await c.query(`VACUUM FULL ${table}`);
    });
  } catch (e) {
    warn(
      `pipeseal: VACUUM FULL ${table} after a destroy failed (${(e as { code?: string }).code ?? "error"}); ${what} may remain in a dead row version until the next VACUUM`,
    );
    return false;
  }
  return true;
}
