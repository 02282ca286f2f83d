/**
 * Delegation: a service the policy names as a delegate (the data gateway) asks on behalf of
 * another identity (the loader that connected to it). A delegated request is allowed only
 * when BOTH hold:
 *
 * 1. a `delegates` entry lets this delegate act for this identity, for this operation, on
 *    this key (built-in invariants first: a key administrator is never a delegate of a
 *    plaintext operation; the delegate and the identity are in one environment; nobody
 *    delegates to itself); and
 * 2. the identity it acts for is itself allowed the request by the rules (`decide`), so a
 *    delegate never widens what anyone may do: it only lets a peer without a route to the
 *    key service use the access it already has.
 *
 * Pure, like the rest of the engine.
 */
import { baseRolesOf, decide, type Decision, type PolicyRequest } from "./decide.js";
import { DELEGABLE_OPERATIONS, DELEGATE_ONLY_OPERATIONS, INVARIANTS, PLAINTEXT_OPERATIONS } from "./operations.js";
import type { Delegation, Policy } from "./parse.js";
import { identityMatches, keyMatches, type Principal, toPrincipal } from "./patterns.js";

/** A decision on a delegated request: the end identity's decision, plus the delegation that let the delegate ask. */
export interface DelegatedDecision extends Decision {
  /** Id of the `delegates` entry that allowed the delegate (absent when it did not). */
  readonly delegation?: string;
}

export interface DelegatedRequest extends PolicyRequest {
  /** The authenticated caller acting for `principal`. */
  readonly delegate: string;
}

const deny = (rule: string, reason: string): DelegatedDecision => Object.freeze({ allowed: false, rule, reason });

/** The entries naming `delegate` as a delegate for `who` (any operation, any key). */
function entriesFor(policy: Policy, delegate: Principal, who: Principal | undefined): Delegation[] {
  return policy.delegates.filter(
    (d) => d.delegate.some((p) => identityMatches(p, delegate)) && (who === undefined || d.for.some((p) => identityMatches(p, who))),
  );
}

/** Why `delegate` can never act for `who` whatever the entries say, or undefined. */
function invariantFailure(policy: Policy, delegate: Principal, who: Principal | undefined, operation: string): DelegatedDecision | undefined {
  if (who !== undefined && who.id === delegate.id) return deny(INVARIANTS.invalidRequest, "a delegate does not act on behalf of itself");
  if (who !== undefined && who.env !== delegate.env)
    return deny(INVARIANTS.environmentIsolation, `a ${delegate.env} delegate cannot act for a ${who.env} identity`);
  if (PLAINTEXT_OPERATIONS.has(operation as never) && baseRolesOf(policy, delegate).has("key-admin"))
    return deny(INVARIANTS.adminNoPlaintext, `a key administrator can never ${operation}, not even for another identity`);
  return undefined;
}

/** Decides a request a delegate makes on behalf of `request.principal`. Never throws. */
export function decideDelegated(policy: Policy, request: DelegatedRequest): DelegatedDecision {
  const delegate = toPrincipal(request?.delegate);
  const who = toPrincipal(request?.principal);
  if (!delegate || !who)
    return deny(INVARIANTS.invalidRequest, "the delegate and the identity it acts for must be spiffe://<trust-domain>/<env>/<service> identities");
  const op = request.operation;
  if (!DELEGABLE_OPERATIONS.has(op as never)) return deny(INVARIANTS.noDelegation, `${String(op).slice(0, 40)} cannot be done on behalf of another identity`);
  const broken = invariantFailure(policy, delegate, who, op);
  if (broken) return broken;
  const entry = entriesFor(policy, delegate, who).find(
    (d) => d.operations.has(op as never) && (d.keys === undefined || (request.keyName !== undefined && d.keys.some((k) => keyMatches(k, request.keyName!)))),
  );
  if (!entry) return deny(INVARIANTS.noDelegation, `no delegation lets ${delegate.id} ${op}${request.keyName ? ` ${request.keyName}` : ""} for ${who.id}`);
  const own = decide(policy, request);
  return Object.freeze({ ...own, delegation: entry.id, reason: `${own.reason} (asked by ${delegate.id} through delegation ${entry.id})` });
}

/**
 * Before the body is read: may `delegate` do `operation` for anyone at all? True when some
 * entry names it for this (delegable) operation, or, for a delegate-only operation
 * (token.verify, audit.append), when some entry names it at all. Sound: when this denies,
 * {@link decideDelegated} and {@link decideDelegateOnly} deny every such request.
 */
export function decideDelegateOperation(policy: Policy, delegateId: string, operation: string): DelegatedDecision {
  const delegate = toPrincipal(delegateId);
  if (!delegate) return deny(INVARIANTS.invalidRequest, "the delegate is not a spiffe://<trust-domain>/<env>/<service> identity");
  const broken = invariantFailure(policy, delegate, undefined, operation);
  if (broken) return broken;
  const entries = entriesFor(policy, delegate, undefined);
  const entry = DELEGATE_ONLY_OPERATIONS.has(operation as never)
    ? entries[0]
    : DELEGABLE_OPERATIONS.has(operation as never)
      ? entries.find((d) => d.operations.has(operation as never))
      : undefined;
  if (!entry) return deny(INVARIANTS.noDelegation, `${delegate.id} is not a delegate for ${String(operation).slice(0, 40)}`);
  return Object.freeze({ allowed: true, rule: entry.id, reason: `delegation ${entry.id} names ${delegate.id}`, delegation: entry.id });
}

/**
 * A delegate-only operation (token.verify, audit.append) about `forIdentity` (the token's
 * subject, the peer a record is about; undefined for a peer that never authenticated): the
 * delegate must be named by an entry `for` that identity.
 */
export function decideDelegateOnly(policy: Policy, delegateId: string, operation: string, forIdentity: string | undefined): DelegatedDecision {
  if (!DELEGATE_ONLY_OPERATIONS.has(operation as never))
    return deny(INVARIANTS.delegateOnly, `${String(operation).slice(0, 40)} is not a delegate-only operation`);
  const gate = decideDelegateOperation(policy, delegateId, operation);
  if (!gate.allowed || forIdentity === undefined) return gate;
  const delegate = toPrincipal(delegateId)!;
  const who = toPrincipal(forIdentity);
  if (!who) return deny(INVARIANTS.invalidRequest, "the identity acted for is not a spiffe://<trust-domain>/<env>/<service> identity");
  const broken = invariantFailure(policy, delegate, who, operation);
  if (broken) return broken;
  const entry = entriesFor(policy, delegate, who)[0];
  if (!entry) return deny(INVARIANTS.noDelegation, `${delegate.id} is not a delegate for ${who.id}`);
  return Object.freeze({ allowed: true, rule: entry.id, reason: `delegation ${entry.id} lets ${delegate.id} act for ${who.id}`, delegation: entry.id });
}
