/**
 * Runs a key administration operation (admin/operation.ts) on the local keystore: its steps
 * over the SQLite dialect and its audit record in one IMMEDIATE transaction, so both commit or
 * neither does. A refused change is recorded as `denied` (or `error`) on a best-effort basis.
 */
import { auditOutcomeOf, isPipesealError } from "../errors.js";
import type { AdminOp } from "./admin/operation.js";
import { runOnSqlite } from "./admin/sqlite-statements.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { immediate } from "./db.js";
import type { StoreContext } from "./store-context.js";

export function runAdminOp<T>(ctx: StoreContext, op: AdminOp<T>): T {
  const { operation, target } = op;
  try {
    return immediate(ctx.db, () => {
      const { result, keyVersion } = runOnSqlite(ctx.db, op.steps({ root: ctx.master, seal: ctx.seal, now: ctx.now() }));
      recordOrFail(ctx, { operation, principal: ctx.principal, outcome: "ok", keyName: target.keyName, keyVersion: keyVersion ?? target.keyVersion });
      return result;
    });
  } catch (e) {
    const refused = isPipesealError(e) && e.code !== "AUDIT_WRITE_FAILED" && e.code !== "AUDIT_CHAIN_BROKEN" && e.code !== "KEYSTORE_BUSY";
    if (refused) {
      recordBestEffort(ctx, {
        operation,
        principal: ctx.principal,
        outcome: auditOutcomeOf(e),
        keyName: target.keyName,
        keyVersion: target.keyVersion,
        errorCode: e.code,
      });
    }
    throw e;
  }
}
