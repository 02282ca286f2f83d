/** Key facts shared by the modules within one run (read once through CheckContext.memo). */
import type { AuditRecord } from "../../audit/types.js";
import type { KeyInfo } from "../../keys/key-info.js";
import type { CheckContext } from "../types.js";

const once = <T>(ctx: CheckContext, name: string, make: () => Promise<T>): Promise<T> => (ctx.memo ? ctx.memo(name, make) : make());

/** Key name → KeyInfo, or null when no key source is configured. */
export function keyInfosOf(ctx: CheckContext): Promise<ReadonlyMap<string, KeyInfo> | null> {
  return once(ctx, "keys", async () => (ctx.keys ? new Map((await ctx.keys.listKeys()).map((k) => [k.name, k])) : null));
}

/** Audit records of the whole chain, oldest first, or null without a key source. */
export function auditOf(ctx: CheckContext): Promise<readonly AuditRecord[] | null> {
  return once(ctx, "audit", async () => (ctx.keys ? ctx.keys.listAudit() : null));
}

/** Operations that hand a data key (hence plaintext) to the caller. */
export const PLAINTEXT_OPERATIONS = new Set(["unwrap", "decrypt", "range-read", "datakey.generate-plaintext", "generate"]);

/**
 * A refused attempt at a plaintext operation: the operation's own `denied` record, or the key
 * service's `authz.<operation>` denial (the service records an allowed operation as the
 * operation's own record, and a decision on its own only where no operation followed).
 */
export function isDeniedPlaintextAttempt(r: { readonly operation: string; readonly outcome: string }): boolean {
  if (r.outcome !== "denied") return false;
  return PLAINTEXT_OPERATIONS.has(r.operation) || (r.operation.startsWith("authz.") && PLAINTEXT_OPERATIONS.has(r.operation.slice("authz.".length)));
}

/** The decrypt output pipeseal writes by default for a sealed path (`x.pseal` → `x`), or null. */
export function defaultOutputOf(objectPath: string | null): string | null {
  return objectPath && objectPath.endsWith(".pseal") ? objectPath.slice(0, -".pseal".length) : null;
}
