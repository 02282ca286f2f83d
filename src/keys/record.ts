/** Audit writes from keystore operations. Internal. */
import type { AuditEvent, AuditRecord } from "../audit/types.js";
import { AuditError, isPipesealError } from "../errors.js";
import type { StoreContext } from "./store-context.js";

/**
 * Writes an audit record; fail closed.
 * @throws AuditError(AUDIT_WRITE_FAILED) if the record could not be written.
 */
export function recordOrFail(ctx: StoreContext, event: AuditEvent): AuditRecord {
  try {
    return ctx.record(event);
  } catch (e) {
    if (isPipesealError(e) && e.code === "AUDIT_WRITE_FAILED") throw e;
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
}

/** Writes an audit record if it can; never throws (the caller is already failing). */
export function recordBestEffort(ctx: StoreContext, event: AuditEvent): void {
  try {
    ctx.record(event);
  } catch {
    // best effort
  }
}
