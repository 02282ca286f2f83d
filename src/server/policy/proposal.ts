/**
 * Policy changes: a proposal is validated when it is made (`validateProposal`) and again
 * when it is approved (`canApprove`). No principal can grant itself, and the approver must
 * be a second, different policy administrator. See docs/policy.md.
 */
import { decide, type Decision, rolesOf, ruleAppliesTo } from "./decide.js";
import { INVARIANTS, type Operation } from "./operations.js";
import { type Conditions, type Delegation, type Policy, parsePolicy, PolicyError, type Rule } from "./parse.js";
import { type IdentityPattern, identityMatches, keyPatternCovers, type Principal, toPrincipal } from "./patterns.js";

const deny = (rule: string, reason: string): Decision => Object.freeze({ allowed: false, rule, reason });
const allow = (rule: string, reason: string): Decision => Object.freeze({ allowed: true, rule, reason });

const subset = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean => b === undefined || (a !== undefined && a.every((x) => b.includes(x)));

/** Are the proposed conditions at least as strict as the active ones? (Conservative.) */
function conditionsAtLeastAsStrict(p: Conditions, a: Conditions): boolean {
  if (!subset(p.env, a.env)) return false;
  if (!subset(p.days, a.days)) return false;
  if (a.hours && !(p.hours && p.hours.from === a.hours.from && p.hours.to === a.hours.to)) return false;
  if (a.notBefore !== undefined && !(p.notBefore !== undefined && p.notBefore >= a.notBefore)) return false;
  if (a.notAfter !== undefined && !(p.notAfter !== undefined && p.notAfter <= a.notAfter)) return false;
  for (const [k, values] of Object.entries(a.context ?? {})) {
    if (!subset(p.context?.[k], values)) return false;
  }
  return true;
}

/** Does active rule `a` allow everything proposed rule `p` allows for operation `op`? */
function covers(a: Rule, p: Rule, op: Operation): boolean {
  if (!a.operations.has(op)) return false;
  if (a.keys !== undefined) {
    if (p.keys === undefined) return false;
    if (!p.keys.every((pk) => a.keys!.some((ak) => keyPatternCovers(ak, pk)))) return false;
  }
  return conditionsAtLeastAsStrict(p.when, a.when);
}

/**
 * Why `proposed` would give `who` something it does not have under `active`, or undefined.
 * Checks: new roles (direct or via a group), new operations or another base for a role it
 * holds, and any rule that applies to it and is not covered by rules that already did.
 */
export function selfGrant(active: Policy, proposed: Policy, who: Principal): string | undefined {
  // an environment dropped from the list turns its keys into shared keys, usable from every environment
  const dropped = active.environments.filter((e) => !proposed.environments.includes(e) && e !== who.env);
  if (dropped.length > 0) return `it would make ${dropped.join(", ")} keys shared, usable by ${who.id} from ${who.env}`;
  const before = new Map(rolesOf(active, who).map((r) => [r.name, r]));
  const after = rolesOf(proposed, who);
  for (const r of after) {
    const old = before.get(r.name);
    if (!old) return `it would bind ${who.id} to role ${r.name} (directly or through a group)`;
    if (old.base !== r.base) return `it would change the base of ${who.id}'s own role ${r.name}`;
    const added = [...r.operations].filter((o) => !old.operations.has(o));
    if (added.length > 0) return `it would give ${who.id}'s own role ${r.name} new operations: ${added.join(", ")}`;
  }
  const delegation = delegationSelfGrant(active, proposed, who);
  if (delegation) return delegation;
  const oldRules = active.rules.filter((r) => ruleAppliesTo(active, r, who));
  for (const p of proposed.rules) {
    if (!ruleAppliesTo(proposed, p, who, after)) continue;
    for (const op of p.operations) {
      if (!oldRules.some((a) => covers(a, p, op))) return `rule ${p.id} would newly allow ${who.id} ${op} (or on more keys or under looser conditions)`;
    }
  }
  return undefined;
}

/** Does identity pattern `wide` match every identity `narrow` matches? */
function identityCovers(wide: IdentityPattern, narrow: IdentityPattern): boolean {
  return wide.trustDomain === narrow.trustDomain && (wide.env === "*" || wide.env === narrow.env) && (wide.service === "*" || wide.service === narrow.service);
}

/**
 * A delegation naming `who` as the delegate lets it act for others (and read what they may
 * read): proposing one, or widening one (more operations, more identities, more keys) is a
 * self-grant, unless an active delegation already covers it.
 */
function delegationSelfGrant(active: Policy, proposed: Policy, who: Principal): string | undefined {
  const names = (d: Delegation) => d.delegate.some((p) => identityMatches(p, who));
  const before = active.delegates.filter(names);
  for (const d of proposed.delegates.filter(names)) {
    const covered = before.some(
      (a) =>
        [...d.operations].every((o) => a.operations.has(o)) &&
        d.for.every((n) => a.for.some((w) => identityCovers(w, n))) &&
        (a.keys === undefined || (d.keys !== undefined && d.keys.every((pk) => a.keys!.some((ak) => keyPatternCovers(ak, pk))))),
    );
    if (!covered) return `delegation ${d.id} would let ${who.id} act for other identities (or for more of them)`;
  }
  return undefined;
}

/**
 * Validates a proposal made by `proposer` against the active policy: the proposer may
 * `policy.propose`, the text parses, and it grants the proposer nothing new.
 * @throws PolicyError (UsageError INVALID_ARGUMENT, with line and column) if the text does not parse.
 */
export function validateProposal(active: Policy, proposal: string | Policy, proposer: string, now: Date = new Date()): Decision {
  const who = toPrincipal(proposer);
  if (!who) return deny(INVARIANTS.invalidRequest, "the proposer is not a spiffe://<trust-domain>/<env>/<service> identity");
  const may = decide(active, { principal: proposer, operation: "policy.propose", now });
  if (!may.allowed) return may;
  const proposed = typeof proposal === "string" ? parsePolicy(proposal) : proposal;
  const grant = selfGrant(active, proposed, who);
  if (grant) return deny(INVARIANTS.noSelfGrant, `no principal can grant itself: ${grant}`);
  return allow(may.rule, `the proposal grants ${who.id} nothing new`);
}

export interface Proposal {
  /** The proposer's SPIFFE ID. */
  readonly proposer: string;
  readonly policyText: string;
}

/**
 * May `approver` approve `proposal` now? The approver must hold a policy-admin role that
 * includes policy.approve, be allowed policy.approve by the active policy, be a different
 * identity from the proposer (identities are compared, not certificates: a second
 * certificate of the same identity is the same principal), and not be granting itself.
 * The proposal is re-validated for the proposer against the active policy.
 */
export function canApprove(proposal: Proposal, approver: string, active: Policy, now: Date = new Date()): Decision {
  const a = toPrincipal(approver);
  if (!a) return deny(INVARIANTS.invalidRequest, "the approver is not a spiffe://<trust-domain>/<env>/<service> identity");
  const p = toPrincipal(proposal?.proposer);
  if (!p) return deny(INVARIANTS.invalidRequest, "the proposer is not a spiffe://<trust-domain>/<env>/<service> identity");
  if (a.id === p.id) return deny(INVARIANTS.approverSameIdentity, `${a.id} proposed this change and cannot approve it; a second policy administrator must`);
  const adminRole = rolesOf(active, a).find((r) => r.base === "policy-admin" && r.operations.has("policy.approve"));
  if (!adminRole) return deny(INVARIANTS.approverNotPolicyAdmin, `${a.id} holds no policy-admin role that includes policy.approve`);
  const may = decide(active, { principal: approver, operation: "policy.approve", now });
  if (!may.allowed) return may;
  let proposed: Policy;
  try {
    proposed = parsePolicy(proposal.policyText);
  } catch (e) {
    return deny(INVARIANTS.proposalInvalid, e instanceof PolicyError ? e.message : "the proposed policy does not parse");
  }
  const byProposer = validateProposal(active, proposed, p.id, now);
  if (!byProposer.allowed) return byProposer;
  const grant = selfGrant(active, proposed, a);
  if (grant) return deny(INVARIANTS.noSelfGrant, `the approver cannot approve a change that grants itself: ${grant}`);
  return allow(may.rule, `${a.id} (role ${adminRole.name}) may approve ${p.id}'s proposal`);
}
