/**
 * Shared by both stores: a server decision (allowed or denied, with its rule) as an audit
 * event. Pure. The stored operation is `authz.<operation>` so a decision is never counted as
 * the operation itself; the rule goes into the context under `@rule`, a key no encryption
 * context can hold (context keys are `[A-Za-z0-9_.:-]+`).
 */
import type { AuditEvent } from "../../audit/types.js";
import { UsageError } from "../../errors.js";
import { normalizeContext } from "../../keys/context.js";
import { auditableName, auditableVersion } from "../../keys/names.js";
import type { DecisionEvent } from "./types.js";

const OPERATION = /^[a-z][a-z0-9.-]{0,47}$/;
export const RULE_CONTEXT_KEY = "@rule";

/** @throws UsageError(INVALID_ARGUMENT) on a malformed event (nothing is recorded). */
export function decisionToAuditEvent(event: DecisionEvent): AuditEvent {
  if (event === null || typeof event !== "object") throw new UsageError("INVALID_ARGUMENT", "a decision event is required");
  const { principal, operation, allowed, rule } = event;
  if (typeof principal !== "string" || principal === "" || principal.length > 1024) throw new UsageError("INVALID_ARGUMENT", "a decision needs a principal");
  if (typeof operation !== "string" || !OPERATION.test(operation)) throw new UsageError("INVALID_ARGUMENT", "a decision needs an operation name");
  if (typeof allowed !== "boolean") throw new UsageError("INVALID_ARGUMENT", "a decision is allowed or not");
  if (typeof rule !== "string" || rule === "" || rule.length > 128) throw new UsageError("INVALID_ARGUMENT", "a decision names the rule that decided it");
  const context = event.context == null ? {} : normalizeContext(event.context);
  const code = event.errorCode;
  return {
    operation: `authz.${operation}`,
    principal,
    outcome: allowed ? "ok" : "denied",
    keyName: auditableName(event.keyName),
    keyVersion: auditableVersion(event.keyVersion),
    objectPath: typeof event.objectPath === "string" ? event.objectPath.slice(0, 4096) : null,
    context: { ...context, [RULE_CONTEXT_KEY]: rule },
    errorCode: typeof code === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : null,
  };
}
