/** Audit writes from keystore operations. Internal. */
import type { AuditEvent, AuditRecord } from "../audit/types.js";
import { AuditError, isPipesealError } from "../errors.js";
import { busyToTyped } from "./db.js";
import type { StoreContext } from "./store-context.js";

/**
 * Writes an audit record; fail closed.
 * @throws AuditError(AUDIT_WRITE_FAILED) if the record could not be written;
 *   KeystoreError(KEYSTORE_BUSY) if another process held the database's lock past the busy timeout.
 */
export function recordOrFail(ctx: StoreContext, event: AuditEvent): AuditRecord {
  try {
    return ctx.record(event);
  } catch (e) {
    // a head that does not authenticate stays what it is (the chain is broken), not a write failure
    if (isPipesealError(e) && (e.code === "AUDIT_WRITE_FAILED" || e.code === "AUDIT_CHAIN_BROKEN" || e.code === "KEYSTORE_BUSY")) throw e;
    const busy = busyToTyped(e, ctx.db.name); // still fail closed: nothing is released
    if (busy !== e) throw busy;
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
