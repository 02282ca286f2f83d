/**
 * `decide`: one request → allowed or denied, with the rule that decided. Pure and
 * synchronous; safe to call concurrently with the same Policy (nothing is mutated).
 *
 * Order: request validity, then the built-in separation-of-duties invariants (whatever the
 * policy says), then the policy's rules in file order (first match allows), else deny.
 * `decideOperation` is the same evaluation before the key and the context are known.
 */
import { ADMIN_OPERATIONS, type BuiltinRole, INVARIANTS, isOperation, PLAINTEXT_OPERATIONS, UNKEYED_OPERATIONS } from "./operations.js";
import type { Conditions, Policy, RoleDef, Rule } from "./parse.js";
import { WEEKDAYS } from "./parse.js";
import { identityMatches, keyMatches, type Principal, toPrincipal } from "./patterns.js";
import { KEY_NAME_PATTERN } from "../../keys/names.js";

export interface PolicyRequest {
  /** The caller's SPIFFE ID (from the mTLS certificate, or the identity a token is bound to). */
  readonly principal: string;
  /** An operation of OPERATIONS (operations.ts); any other string is an unknown operation, denied as an invalid request. */
  readonly operation: string;
  /** Required for every operation except the unkeyed ones (key.list, policy.*, audit.*, token.mint). */
  readonly keyName?: string;
  /** Encryption context of the request (string values). */
  readonly context?: Readonly<Record<string, string>>;
  readonly now: Date;
  /** The key's environment from its metadata, if it has one. */
  readonly keyEnv?: string;
  /** How the caller authenticated; a bearer token cannot mint tokens. Default "mtls". */
  readonly auth?: "mtls" | "token";
}

export interface Decision {
  readonly allowed: boolean;
  /** The deciding rule's id, or `builtin:<invariant>`. */
  readonly rule: string;
  /** For humans and the audit log; never holds context values or key material. */
  readonly reason: string;
}

const deny = (rule: string, reason: string): Decision => Object.freeze({ allowed: false, rule, reason });
const allow = (rule: string, reason: string): Decision => Object.freeze({ allowed: true, rule, reason });

/** Roles bound to `who`, directly or through a group. */
export function rolesOf(policy: Policy, who: Principal): RoleDef[] {
  const out = new Map<string, RoleDef>();
  for (const b of policy.bindings) {
    if (out.has(b.role)) continue;
    if (b.identity ? identityMatches(b.identity, who) : policy.groups.get(b.group!)!.some((p) => identityMatches(p, who))) {
      out.set(b.role, policy.roles.get(b.role)!);
    }
  }
  return [...out.values()];
}

/** The built-in roles `who` counts as (a custom role counts as its base). */
export function baseRolesOf(policy: Policy, who: Principal): Set<BuiltinRole> {
  return new Set(rolesOf(policy, who).map((r) => r.base));
}

export function inGroup(policy: Policy, group: string, who: Principal): boolean {
  return (policy.groups.get(group) ?? []).some((p) => identityMatches(p, who));
}

/** Does the rule's subject (role, group or identity) cover `who`? */
export function ruleAppliesTo(policy: Policy, rule: Rule, who: Principal, roles: readonly RoleDef[] = rolesOf(policy, who)): boolean {
  if (rule.role !== undefined) return roles.some((r) => r.name === rule.role);
  if (rule.group !== undefined) return inGroup(policy, rule.group, who);
  return identityMatches(rule.identity!, who);
}

/**
 * The environment a key belongs to: `keyEnv` from its metadata, else the first segment of
 * its name when that is one of the policy's environments, else none (a shared key).
 * Returns null when metadata and name disagree (refused).
 */
export function keyEnvironment(policy: Policy, keyName: string | undefined, keyEnv: string | undefined): string | undefined | null {
  const fromName = keyName !== undefined && keyName.includes("/") ? keyName.slice(0, keyName.indexOf("/")) : undefined;
  const named = fromName !== undefined && policy.environments.includes(fromName) ? fromName : undefined;
  if (keyEnv !== undefined && named !== undefined && keyEnv !== named) return null;
  return keyEnv ?? named;
}

/**
 * Why the conditions fail for this request, or undefined. With `anyContext` (the decision
 * before the body is read) the context conditions count as met: some context satisfies them.
 */
function conditionFailure(when: Conditions, who: Principal, req: PolicyRequest, anyContext = false): string | undefined {
  if (when.env && !when.env.includes(who.env)) return `environment ${who.env} is not in when.env`;
  if (when.context && !anyContext) {
    for (const [k, values] of Object.entries(when.context)) {
      const v = req.context !== undefined && Object.hasOwn(req.context, k) ? req.context[k] : undefined;
      if (typeof v !== "string") return `encryption context has no "${k}"`;
      if (!values.includes(v)) return `context.${k} is not one of the allowed values`;
    }
  }
  const t = req.now.getTime();
  if (when.notBefore !== undefined && t < when.notBefore) return "before when.notBefore";
  if (when.notAfter !== undefined && t > when.notAfter) return "after when.notAfter";
  if (when.hours) {
    const h = req.now.getUTCHours();
    const { from, to } = when.hours;
    const inside = from < to ? h >= from && h < to : h >= from || h < to;
    if (!inside) return `UTC hour ${h} is outside ${from}-${to}`;
  }
  if (when.days && !when.days.includes(WEEKDAYS[req.now.getUTCDay()])) return `UTC day ${WEEKDAYS[req.now.getUTCDay()]} is not in when.days`;
  return undefined;
}

/** Decides one request. Never throws for any input; an invalid request is denied. */
export function decide(policy: Policy, request: PolicyRequest): Decision {
  return evaluate(policy, request, false);
}

/** What {@link decideOperation} is given: who, what operation, when, how authenticated; no key, no context. */
export type OperationRequest = Omit<PolicyRequest, "keyName" | "context" | "keyEnv">;

/**
 * The decision that needs only the caller and the operation: could any request for
 * `operation` by this principal, now, be allowed (on some key, with some context)? The key
 * service makes it before it reads a request's body, so a caller who may never do an
 * operation is refused (and audited) without its input being parsed.
 *
 * Sound: when this denies, {@link decide} denies every request for that operation by that
 * principal at that time, whatever the key name, key environment and context (a property
 * test holds the two together). When it allows, the full decision is still made on the
 * parsed request. The rules are the same code as `decide`'s, with the key and the context
 * taken as "any".
 */
export function decideOperation(policy: Policy, request: OperationRequest): Decision {
  const { keyName: _k, context: _c, keyEnv: _e, ...rest } = (request ?? {}) as PolicyRequest;
  return evaluate(policy, rest, true);
}

function evaluate(policy: Policy, request: PolicyRequest, anyKey: boolean): Decision {
  const req = request as Partial<PolicyRequest> | undefined;
  const who = toPrincipal(req?.principal);
  if (!who) return deny(INVARIANTS.invalidRequest, "the principal is not a spiffe://<trust-domain>/<env>/<service> identity");
  const op = req!.operation;
  if (!isOperation(op)) return deny(INVARIANTS.invalidRequest, `unknown operation "${String(op).slice(0, 40)}"`);
  if (!(req!.now instanceof Date) || !Number.isFinite(req!.now.getTime())) return deny(INVARIANTS.invalidRequest, "the request has no valid time");
  const keyName = req!.keyName;
  // a keyed operation decided for "any key" still needs rules with `keys` below
  const keyed = !UNKEYED_OPERATIONS.has(op) && (anyKey || keyName !== undefined);
  if (keyName !== undefined && (typeof keyName !== "string" || !KEY_NAME_PATTERN.test(keyName))) return deny(INVARIANTS.invalidRequest, "invalid key name");
  if (keyName === undefined && !anyKey && !UNKEYED_OPERATIONS.has(op)) return deny(INVARIANTS.invalidRequest, `${op} needs a key name`);
  if (req!.keyEnv !== undefined && (typeof req!.keyEnv !== "string" || req!.keyEnv === "")) return deny(INVARIANTS.invalidRequest, "invalid key environment");
  if (req!.context !== undefined && (typeof req!.context !== "object" || req!.context === null))
    return deny(INVARIANTS.invalidRequest, "invalid encryption context");
  const r = req as PolicyRequest;

  // built-in invariants, whatever the policy says
  if (op === "token.mint" && r.auth === "token") return deny(INVARIANTS.tokenNoMint, "a bearer token cannot mint tokens; mint over mTLS");
  if (keyName !== undefined) {
    const env = keyEnvironment(policy, keyName, r.keyEnv);
    if (env === null) return deny(INVARIANTS.environmentIsolation, `key ${keyName} has metadata environment ${r.keyEnv} but its name says otherwise`);
    if (env !== undefined && env !== who.env) return deny(INVARIANTS.environmentIsolation, `a ${who.env} principal cannot use ${env} key ${keyName}`);
  }
  const roles = rolesOf(policy, who);
  const bases = new Set(roles.map((x) => x.base));
  if (bases.has("key-admin") && PLAINTEXT_OPERATIONS.has(op)) return deny(INVARIANTS.adminNoPlaintext, `a key administrator can never ${op}`);
  if (bases.has("workload") && ADMIN_OPERATIONS.has(op)) return deny(INVARIANTS.workloadNoAdmin, `a workload identity can never ${op}`);

  // the policy's rules: the subject must match, and a role the principal holds must include the operation
  const granting = roles.filter((x) => x.operations.has(op));
  const on = keyName !== undefined ? ` on ${keyName}` : anyKey && keyed ? " on any key" : "";
  let nearMiss: string | undefined;
  for (const rule of policy.rules) {
    if (!rule.operations.has(op)) continue;
    if (!ruleAppliesTo(policy, rule, who, roles)) continue;
    if (keyName !== undefined && rule.keys !== undefined && !rule.keys.some((k) => keyMatches(k, keyName))) continue;
    if (keyed && rule.keys === undefined) continue;
    // a role's rule grants within that role; a group's or identity's rule within any role the principal holds
    const within = rule.role !== undefined ? granting.filter((g) => g.name === rule.role) : granting;
    if (within.length === 0) {
      nearMiss ??= `rule ${rule.id} matches, but no role of ${who.id} includes ${op}`;
      continue;
    }
    const failed = conditionFailure(rule.when, who, r, anyKey);
    if (failed !== undefined) {
      nearMiss ??= `rule ${rule.id} matches, but ${failed}`;
      continue;
    }
    return allow(rule.id, `rule ${rule.id} allows ${op}${on} (role ${within.map((g) => g.name).join(", ")})`);
  }
  return deny(INVARIANTS.defaultDeny, nearMiss ?? `no rule allows ${op}${on} for ${who.id}`);
}
