/**
 * The key service's policy engine: a pure library (data in, data out, no I/O, no shared
 * mutable state), safe to call concurrently. docs/policy.md describes the language, the
 * built-in separation-of-duties invariants and approval.
 *
 * @example
 * const policy = parsePolicy(yamlText);                    // throws PolicyError with line:column
 * const d = decide(policy, { principal: "spiffe://acme.ml/prod/trainer", operation: "unwrap",
 *                            keyName: "prod/datasets/raw", context: { dataset: "raw" }, now: new Date() });
 * if (!d.allowed) … // d.rule: rule id or "builtin:<invariant>"; d.reason: for the audit record
 */
export {
  OPERATIONS,
  type Operation,
  isOperation,
  UNKEYED_OPERATIONS,
  BUILTIN_ROLES,
  type BuiltinRole,
  BUILTIN_ROLE_OPERATIONS,
  PLAINTEXT_OPERATIONS,
  ADMIN_OPERATIONS,
  INVARIANTS,
  type InvariantId,
  DELEGABLE_OPERATIONS,
  DELEGATE_ONLY_OPERATIONS,
} from "./operations.js";
export {
  parsePolicy,
  PolicyError,
  DEFAULT_ENVIRONMENTS,
  type Policy,
  type RoleDef,
  type Binding,
  type Rule,
  type Conditions,
  type Weekday,
  type Delegation,
} from "./parse.js";
export { decide, decideOperation, keyEnvironment, rolesOf, type Decision, type OperationRequest, type PolicyRequest } from "./decide.js";
export { decideDelegated, decideDelegateOperation, decideDelegateOnly, type DelegatedDecision, type DelegatedRequest } from "./delegate.js";
export { validateProposal, canApprove, type Proposal } from "./proposal.js";
