/**
 * Sealing the key state of a keystore made before key-state MACs (schema 4 and older), on its
 * first open with the root key: every key row and version row gets its MAC (key-state.ts),
 * the authenticated marker goes into `meta`, and a `key.seal-state` audit record says so —
 * in one transaction.
 *
 * A store whose marker is missing is taken for an older one only if the audit chain does not
 * say it was sealed before (key-state.ts sealedBefore); otherwise the marker was stripped to
 * have tampered rows sealed as they are, and the open fails with KEYSTORE_CORRUPT. The
 * PostgreSQL store does the same (pg-init.ts).
 */
import type { AuditRow } from "../audit/schema.js";
import { KEY_STATE_META, SEAL_OPERATION, markerStripped, sealedBefore } from "./key-state.js";
import { getMeta, setMeta } from "./db.js";
import { recordOrFail } from "./record.js";
import { resealKey } from "./admin/key-rows.js";
import { runOnSqlite } from "./admin/sqlite-statements.js";
import type { StoreContext } from "./store-context.js";

/** @throws KeystoreError(KEYSTORE_CORRUPT) for an altered or stripped marker; AuditError(AUDIT_WRITE_FAILED) */
export function ensureKeyStateSealed(ctx: StoreContext): void {
  const { db } = ctx;
  const stored = getMeta(db, KEY_STATE_META);
  if (ctx.seal.markerMatches(stored)) return;
  db.transaction(() => {
    const now = getMeta(db, KEY_STATE_META); // under the write lock: another process may have sealed it meanwhile
    if (ctx.seal.markerMatches(now)) return;
    if (now !== null || wasSealed(ctx)) throw markerStripped();
    const names = (db.prepare("SELECT name FROM keys ORDER BY name").all() as { name: string }[]).map((k) => k.name);
    for (const name of names) runOnSqlite(db, resealKey(ctx.seal, name));
    setMeta(db, KEY_STATE_META, ctx.seal.marker());
    recordOrFail(ctx, { operation: SEAL_OPERATION, principal: ctx.principal, outcome: "ok", context: { keys: String(names.length) } });
  }).immediate();
}

function wasSealed(ctx: StoreContext): boolean {
  const init = ctx.db.prepare("SELECT * FROM audit WHERE seq = 1").get() as AuditRow | undefined;
  const sealRecord = ctx.db.prepare("SELECT 1 FROM audit WHERE operation = ? LIMIT 1").get(SEAL_OPERATION) !== undefined;
  return sealedBefore(init, (d) => ctx.master.auditMac(d), sealRecord);
}
