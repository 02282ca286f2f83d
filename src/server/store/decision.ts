/**
 * Shared by both stores: a server decision as an audit event. Pure. An allowed operation is
 * ONE record, the operation's own, carrying its rule (actor.ts); a decision is recorded on its
 * own only where no operation follows: a denial, or an allowed operation that failed before
 * it started (outcome `error` with its code). That record's operation is `authz.<operation>`,
 * so it is never counted as the operation itself; the rule goes into the context under
 * `@rule`, a key no encryption context can hold (context keys are `[A-Za-z0-9_.:-]+`).
 */
import type { AuditEvent } from "../../audit/types.js";
import { UsageError } from "../../errors.js";
import { normalizeContext } from "../../keys/context.js";
import { auditableName, auditableVersion } from "../../keys/names.js";
import type { DecisionEvent } from "./types.js";
import { RULE_CONTEXT_KEY, noteContext } from "./actor.js";

const OPERATION = /^[a-z][a-z0-9.-]{0,47}$/;
export { RULE_CONTEXT_KEY };
/** The identity a delegate acted for, and the delegation that let it (same `@` reasoning). */
export const ON_BEHALF_CONTEXT_KEY = "@on-behalf-of";
export const DELEGATION_CONTEXT_KEY = "@delegation";

/**
 * A decision recorded alone: outcome `denied` when refused, `error` (with its code) when
 * allowed but the operation failed before it started.
 * @throws UsageError(INVALID_ARGUMENT) on a malformed event (nothing is recorded).
 */
export function decisionToAuditEvent(event: DecisionEvent): AuditEvent {
  if (event === null || typeof event !== "object") throw new UsageError("INVALID_ARGUMENT", "a decision event is required");
  const { principal, operation, allowed, rule } = event;
  if (typeof principal !== "string" || principal === "" || principal.length > 1024) throw new UsageError("INVALID_ARGUMENT", "a decision needs a principal");
  if (typeof operation !== "string" || !OPERATION.test(operation)) throw new UsageError("INVALID_ARGUMENT", "a decision needs an operation name");
  if (typeof allowed !== "boolean") throw new UsageError("INVALID_ARGUMENT", "a decision is allowed or not");
  if (typeof rule !== "string" || rule === "" || rule.length > 128) throw new UsageError("INVALID_ARGUMENT", "a decision names the rule that decided it");
  const context = event.context == null ? {} : normalizeContext(event.context);
  const code = typeof event.errorCode === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(event.errorCode) ? event.errorCode : null;
  return {
    operation: `authz.${operation}`,
    principal,
    outcome: !allowed ? "denied" : code === null ? "ok" : "error",
    keyName: auditableName(event.keyName),
    keyVersion: auditableVersion(event.keyVersion),
    objectPath: typeof event.objectPath === "string" ? event.objectPath.slice(0, 4096) : null,
    context: {
      ...context,
      [RULE_CONTEXT_KEY]: rule,
      ...(typeof event.onBehalfOf === "string" && event.onBehalfOf !== "" ? { [ON_BEHALF_CONTEXT_KEY]: event.onBehalfOf.slice(0, 1024) } : {}),
      ...(typeof event.delegation === "string" && event.delegation !== "" ? { [DELEGATION_CONTEXT_KEY]: event.delegation.slice(0, 128) } : {}),
    },
    errorCode: code,
  };
}

/**
 * The record of an allowed operation the store does not audit itself (a listing, a wrap,
 * a token): the operation's own name, outcome `ok`, and the decision in its context as the
 * store's records carry it (actor.ts). For a delegate's request, `principal` is the identity it
 * acted for and the delegate is under `@delegate`.
 * @throws UsageError(INVALID_ARGUMENT) on a malformed event (nothing is recorded).
 */
export function operationToAuditEvent(event: DecisionEvent): AuditEvent {
  const base = decisionToAuditEvent({ ...event, errorCode: null });
  const { [RULE_CONTEXT_KEY]: _r, [ON_BEHALF_CONTEXT_KEY]: _o, [DELEGATION_CONTEXT_KEY]: _d, ...context } = base.context ?? {};
  const on = typeof event.onBehalfOf === "string" && event.onBehalfOf !== "" ? event.onBehalfOf.slice(0, 1024) : null;
  const note = {
    rule: event.rule,
    ...(on !== null ? { delegate: event.principal } : {}),
    ...(typeof event.delegation === "string" ? { delegation: event.delegation } : {}),
  };
  return { ...base, operation: event.operation, principal: on ?? event.principal, outcome: "ok", context: { ...context, ...noteContext(note) } };
}

/** The records a delegate may append: the gateway's own (src/gateway: deny, serve, TLS reject). */
export const DELEGATE_RECORD_OPERATIONS = ["gateway.deny", "gateway.serve", "gateway.reject"] as const;

/** One record a delegate reports (POST /v1/audit/records). */
export interface DelegateRecord {
  readonly operation: (typeof DELEGATE_RECORD_OPERATIONS)[number];
  readonly outcome: "ok" | "denied" | "error";
  /** The peer the record is about (absent: a peer that never authenticated). */
  readonly onBehalfOf?: string;
  readonly errorCode?: string;
  readonly keyName?: string;
  readonly keyVersion?: number;
  readonly objectPath?: string;
  readonly headerHash?: string;
  readonly context?: Readonly<Record<string, string>>;
}

/**
 * A delegate's record as an audit event: `principal` is the delegate (who reported it), the
 * peer goes under `@on-behalf-of`. @throws UsageError(INVALID_ARGUMENT) on a malformed record.
 */
export function delegateRecordEvent(delegate: string, r: DelegateRecord): AuditEvent {
  if (!(DELEGATE_RECORD_OPERATIONS as readonly string[]).includes(r.operation))
    throw new UsageError("INVALID_ARGUMENT", "a delegate records gateway.deny, gateway.serve or gateway.reject only");
  const context = r.context == null ? {} : normalizeContext(r.context);
  return {
    operation: r.operation,
    principal: delegate,
    outcome: r.outcome,
    keyName: auditableName(r.keyName),
    keyVersion: auditableVersion(r.keyVersion),
    objectPath: typeof r.objectPath === "string" ? r.objectPath.slice(0, 4096) : null,
    headerHash: typeof r.headerHash === "string" && /^[0-9a-f]{64}$/.test(r.headerHash) ? r.headerHash : null,
    context: { ...context, ...(typeof r.onBehalfOf === "string" && r.onBehalfOf !== "" ? { [ON_BEHALF_CONTEXT_KEY]: r.onBehalfOf.slice(0, 1024) } : {}) },
    errorCode: typeof r.errorCode === "string" && /^[A-Z][A-Z0-9_]{0,63}$/.test(r.errorCode) ? r.errorCode : null,
  };
}
