/**
 * Runs an admin change and its audit record in one IMMEDIATE transaction: both commit or
 * neither does. A refused change is recorded as `denied` (or `error`) on a best-effort basis.
 */
import type { AuditOperation } from "../audit/types.js";
import { auditOutcomeOf, isPipesealError } from "../errors.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { immediate } from "./db.js";
import type { StoreContext } from "./store-context.js";

export interface AdminTarget {
  readonly keyName: string | null;
  readonly keyVersion?: number | null;
}

export function runAdminOp<T>(ctx: StoreContext, operation: AuditOperation, target: AdminTarget, change: () => { result: T; keyVersion?: number | null }): T {
  try {
    return immediate(ctx.db, () => {
      const { result, keyVersion } = change();
      recordOrFail(ctx, {
        operation,
        principal: ctx.principal,
        outcome: "ok",
        keyName: target.keyName,
        keyVersion: keyVersion ?? target.keyVersion ?? null,
      });
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
        keyVersion: target.keyVersion ?? null,
        errorCode: e.code,
      });
    }
    throw e;
  }
}
