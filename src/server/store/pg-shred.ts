/**
 * Crypto-shredding on PostgreSQL. `UPDATE … SET kek = NULL` writes a new row version; the old
 * one, still holding the wrapped KEK, stays in the heap as a dead tuple until VACUUM prunes
 * it. So after a destroy commits, the key-versions table is vacuumed at once. VACUUM cannot
 * run inside a transaction and can be held back (another session's older snapshot keeps the
 * dead tuple visible), so this is best effort and a failure is reported, never thrown: the
 * destroy itself has committed.
 *
 * What this does not reach: WAL segments written before the destroy (recycled after the
 * next checkpoints; archived WAL and base backups keep them) and freed filesystem blocks.
 */
import type pg from "pg";
import { withClient } from "./pg-tx.js";

/**
 * VACUUM of key_versions (the pruned page reaches the data file at the next checkpoint).
 * @returns true if the VACUUM ran; on failure `warn` gets a message (no secret in it).
 */
export async function vacuumKeyVersions(pool: pg.Pool, warn: (message: string) => void): Promise<boolean> {
  try {
    await withClient(pool, async (c) => {
      await c.query("VACUUM key_versions");
    });
  } catch (e) {
    warn(`pipeseal: VACUUM key_versions after a destroy failed (${(e as { code?: string }).code ?? "error"}); the destroyed KEK may remain in a dead row version until the next VACUUM`);
    return false;
  }
  return true;
}
