/**
 * The stable list of key-service operations and the four built-in roles. A built-in role
 * is the ceiling of what any rule can grant to a principal holding it (see docs/policy.md).
 * Never rename an operation; add new ones at the end and give each a built-in decision.
 */

export const OPERATIONS = [
  "key.create",
  "key.rotate",
  "key.list",
  "key.show",
  "key.disable",
  "key.enable",
  "key.destroy",
  "key.set-min-version",
  "datakey.generate",
  "datakey.generate-plaintext",
  "unwrap",
  "rewrap",
  "encrypt",
  "decrypt",
  "sign",
  "verify",
  "hmac",
  "policy.propose",
  "policy.approve",
  "audit.read",
  "audit.export",
  "token.mint",
  "secret.read",
  "secret.write",
  "secret.list",
  "token.verify",
  "audit.append",
] as const;
export type Operation = (typeof OPERATIONS)[number];

const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);
export function isOperation(x: unknown): x is Operation {
  return typeof x === "string" && OPERATION_SET.has(x);
}

/**
 * Operations that are not about one key: a request for them needs no `keyName` (if one is
 * given, e.g. to filter `key.list`, rules with `keys` still have to match it).
 */
export const UNKEYED_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  "key.list",
  "policy.propose",
  "policy.approve",
  "audit.read",
  "audit.export",
  "token.mint",
  "secret.list",
  "token.verify",
  "audit.append",
]);

/**
 * Operations only a delegate does (a gateway acting for its peers), granted by the policy's
 * `delegates` entries, never by a role or a rule: check a peer's bearer token (token.verify),
 * record what the delegate served or refused in the service's audit chain (audit.append).
 */
export const DELEGATE_ONLY_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(["token.verify", "audit.append"]);

/** Operations a delegate may do on behalf of another identity (`delegates[].operations`). */
export const DELEGABLE_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(["unwrap"]);

export const BUILTIN_ROLES = ["key-admin", "policy-admin", "workload", "auditor"] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];
export function isBuiltinRole(x: unknown): x is BuiltinRole {
  return typeof x === "string" && (BUILTIN_ROLES as readonly string[]).includes(x);
}

/** The operations each built-in role may ever be granted. */
export const BUILTIN_ROLE_OPERATIONS: Readonly<Record<BuiltinRole, readonly Operation[]>> = Object.freeze({
  "key-admin": Object.freeze<Operation[]>([
    "key.create",
    "key.rotate",
    "key.list",
    "key.show",
    "key.disable",
    "key.enable",
    "key.destroy",
    "key.set-min-version",
    "token.mint",
    "secret.write",
    "secret.list",
  ]),
  "policy-admin": Object.freeze<Operation[]>(["policy.propose", "policy.approve", "key.list", "key.show", "token.mint"]),
  workload: Object.freeze<Operation[]>([
    "key.list",
    "key.show",
    "datakey.generate",
    "datakey.generate-plaintext",
    "unwrap",
    "rewrap",
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "hmac",
    "token.mint",
    "secret.read",
    "secret.write",
    "secret.list",
  ]),
  auditor: Object.freeze<Operation[]>(["audit.read", "audit.export", "key.list", "key.show", "token.mint"]),
});

/** Operations that return or expose plaintext key material or data: never for a key administrator. */
export const PLAINTEXT_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>(["unwrap", "decrypt", "datakey.generate-plaintext", "secret.read"]);

/** Key lifecycle and policy changes: never for a workload identity. */
export const ADMIN_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  "key.create",
  "key.rotate",
  "key.destroy",
  "key.disable",
  "key.enable",
  "key.set-min-version",
  "policy.propose",
  "policy.approve",
]);

/**
 * Stable ids of the built-in invariants, as they appear in `Decision.rule` (and so in audit
 * records). Never rename one.
 */
export const INVARIANTS = {
  invalidRequest: "builtin:invalid-request",
  tokenNoMint: "builtin:token-cannot-mint",
  environmentIsolation: "builtin:environment-isolation",
  adminNoPlaintext: "builtin:admin-no-plaintext",
  workloadNoAdmin: "builtin:workload-no-admin",
  defaultDeny: "builtin:default-deny",
  noSelfGrant: "builtin:no-self-grant",
  proposalInvalid: "builtin:proposal-invalid",
  approverSameIdentity: "builtin:approver-same-identity",
  approverNotPolicyAdmin: "builtin:approver-not-policy-admin",
  noDelegation: "builtin:no-delegation",
  delegateOnly: "builtin:delegate-only",
} as const;
export type InvariantId = (typeof INVARIANTS)[keyof typeof INVARIANTS];
