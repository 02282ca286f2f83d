/**
 * Audited changes to capability tables in keystore.db (the internal CA): the change and its
 * audit record commit together or not at all. Split from keystore.ts: capabilities have
 * their own operation names and rules, apart from the keystore's `key.*` operations.
 */
import { UsageError, auditOutcomeOf, isPipesealError } from "../errors.js";
import { type Db, immediate } from "./db.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import type { StoreContext } from "./store-context.js";

/**
 * The audit record of an administrative action by a capability that keeps its own tables in
 * keystore.db (the internal CA). The principal and time are filled in by the keystore.
 */
export interface CapabilityAuditEvent {
  /** A dotted capability operation such as `ca.issue`; `key.*` names are reserved for the keystore. */
  readonly operation: string;
  readonly keyName?: string | null;
  readonly keyVersion?: number | null;
  /** What the action concerns, e.g. a SPIFFE identity. */
  readonly objectPath?: string | null;
  /** Extra details (e.g. a certificate serial); never secrets. */
  readonly context?: Readonly<Record<string, string>> | null;
}

const CAPABILITY_OPERATION = /^(?!key\.)[a-z]+\.[a-z-]{1,32}$/;

/** The body of `LocalKeystore.auditedChange`, whose TSDoc is the contract. */
export function auditedChange<T>(ctx: StoreContext, event: CapabilityAuditEvent, change: (db: Db) => T): T {
  if (typeof event?.operation !== "string" || !CAPABILITY_OPERATION.test(event.operation)) {
    throw new UsageError("INVALID_ARGUMENT", 'a capability audit operation must be a dotted name such as "ca.issue" (not key.*)');
  }
  const base = {
    operation: event.operation,
    principal: ctx.principal,
    keyName: event.keyName ?? null,
    keyVersion: event.keyVersion ?? null,
    objectPath: event.objectPath ?? null,
    context: event.context ?? null,
  };
  try {
    return immediate(ctx.db, () => {
      const result = change(ctx.db);
      recordOrFail(ctx, { ...base, outcome: "ok" });
      return result;
    });
  } catch (e) {
    if (isPipesealError(e) && e.code !== "AUDIT_WRITE_FAILED" && e.code !== "AUDIT_CHAIN_BROKEN" && e.code !== "KEYSTORE_BUSY") {
      // a refusal (key state, bad input, a privacy budget that would be overspent) is denied, anything else an error
      recordBestEffort(ctx, { ...base, outcome: auditOutcomeOf(e), errorCode: e.code });
    }
    throw e;
  }
}
