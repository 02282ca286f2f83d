/**
 * The separation-of-duties matrix: every (built-in role × operation) pair, generated from
 * OPERATIONS so that a new operation without an expected decision here fails the test.
 */
import { describe, expect, it } from "vitest";
import {
  BUILTIN_ROLES,
  type BuiltinRole,
  decide,
  DELEGATE_ONLY_OPERATIONS,
  OPERATIONS,
  type Operation,
  parsePolicy,
  UNKEYED_OPERATIONS,
} from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";
const now = new Date("2025-06-02T10:00:00Z");

/** Which built-in roles may ever perform each operation (with the most permissive rules). Written by hand. */
const EXPECTED: Record<Operation, readonly BuiltinRole[]> = {
  "key.create": ["key-admin"],
  "key.rotate": ["key-admin"],
  "key.list": ["key-admin", "policy-admin", "workload", "auditor"],
  "key.show": ["key-admin", "policy-admin", "workload", "auditor"],
  "key.disable": ["key-admin"],
  "key.enable": ["key-admin"],
  "key.destroy": ["key-admin"],
  "key.set-min-version": ["key-admin"],
  "datakey.generate": ["workload"],
  "datakey.generate-plaintext": ["workload"],
  unwrap: ["workload"],
  rewrap: ["workload"],
  encrypt: ["workload"],
  decrypt: ["workload"],
  sign: ["workload"],
  verify: ["workload"],
  hmac: ["workload"],
  "policy.propose": ["policy-admin"],
  "policy.approve": ["policy-admin"],
  "audit.read": ["auditor"],
  "audit.export": ["auditor"],
  "token.mint": ["key-admin", "policy-admin", "workload", "auditor"],
  "secret.read": ["workload"],
  "secret.write": ["key-admin", "workload"],
  "secret.list": ["key-admin", "workload"],
  // delegate-only: granted by `delegates` entries, never by a role (test/server/policy-delegates.test.ts)
  "token.verify": [],
  "audit.append": [],
};

/** Operations forbidden by a built-in invariant (not just absent from the role), and its rule id. */
const INVARIANT_DENIALS: Partial<Record<BuiltinRole, Partial<Record<Operation, string>>>> = {
  "key-admin": {
    unwrap: "builtin:admin-no-plaintext",
    decrypt: "builtin:admin-no-plaintext",
    "datakey.generate-plaintext": "builtin:admin-no-plaintext",
    "secret.read": "builtin:admin-no-plaintext",
  },
  workload: Object.fromEntries(
    (["key.create", "key.rotate", "key.destroy", "key.disable", "key.enable", "key.set-min-version", "policy.propose", "policy.approve"] as const).map((o) => [
      o,
      "builtin:workload-no-admin",
    ]),
  ),
};

const principalOf = (role: string) => `${TD}/prod/${role}-svc`;
const request = (principal: string, operation: Operation) => ({
  principal,
  operation,
  now,
  ...(UNKEYED_OPERATIONS.has(operation) ? {} : { keyName: "prod/models/m1" }),
});

/** Each role bound directly; two permissive styles of rules: by role with "*", and by identity with "*". */
const byRole = parsePolicy(
  `version: 1\nbindings:\n${BUILTIN_ROLES.map((r) => `  - { identity: "${principalOf(r)}", role: ${r} }`).join("\n")}\nrules:\n${BUILTIN_ROLES.map((r) => `  - { id: all-${r}, role: ${r}, operations: "*", keys: ["**"] }`).join("\n")}\n`,
);
const byIdentity = parsePolicy(
  `version: 1\nbindings:\n${BUILTIN_ROLES.map((r) => `  - { identity: "${principalOf(r)}", role: ${r} }`).join("\n")}\nrules:\n  - { id: everything, identity: "${TD}/*/*", operations: "*", keys: ["**"] }\n`,
);

describe("separation-of-duties matrix", () => {
  it("has an expected decision for every operation and nothing else", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...OPERATIONS].sort());
  });

  const pairs = BUILTIN_ROLES.flatMap((role) => OPERATIONS.map((op) => [role, op] as const));
  it.each(pairs)("%s × %s", (role, op) => {
    const allowed = EXPECTED[op].includes(role);
    const invariant = INVARIANT_DENIALS[role]?.[op];
    expect(allowed && invariant !== undefined).toBe(false); // the table is consistent
    for (const [style, policy] of [
      ["role rule", byRole],
      ["identity rule", byIdentity],
    ] as const) {
      const d = decide(policy, request(principalOf(role), op));
      expect([style, d.allowed]).toEqual([style, allowed]);
      if (allowed) expect(d.rule).toBe(style === "role rule" ? `all-${role}` : "everything");
      else expect(d.rule).toBe(invariant ?? "builtin:default-deny");
      expect(d.reason.length).toBeGreaterThan(0);
    }
  });

  it("an unbound principal gets nothing, even from a rule naming it", () => {
    for (const op of OPERATIONS) {
      expect(decide(byIdentity, request(`${TD}/prod/stranger`, op))).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    }
  });

  it("a principal holding every role still cannot unwrap as an admin nor rotate as a workload", () => {
    const p = parsePolicy(
      `version: 1\ngroups:\n  everyone: ["${TD}/prod/*"]\nbindings:\n${BUILTIN_ROLES.map((r) => `  - { group: everyone, role: ${r} }`).join("\n")}\nrules:\n  - { id: everything, group: everyone, operations: "*", keys: ["**"] }\n`,
    );
    for (const op of OPERATIONS) {
      const d = decide(p, request(`${TD}/prod/god`, op));
      const forbidden = INVARIANT_DENIALS["key-admin"]![op] ?? INVARIANT_DENIALS.workload![op];
      if (forbidden) expect([op, d.rule]).toEqual([op, forbidden]);
      else if (DELEGATE_ONLY_OPERATIONS.has(op))
        expect([op, d.allowed]).toEqual([op, false]); // only a `delegates` entry grants these
      else expect([op, d.allowed]).toEqual([op, true]);
    }
  });

  it("custom roles are limited to their base and classified as it", () => {
    const p = parsePolicy(`version: 1
roles:
  rotator: { base: key-admin, operations: [key.rotate, key.show] }
  reader: { base: workload, operations: [unwrap] }
bindings:
  - { identity: "${TD}/prod/rot", role: rotator }
  - { identity: "${TD}/prod/rot", role: reader }
  - { identity: "${TD}/prod/rd", role: reader }
rules:
  - { id: all, identity: "${TD}/prod/*", operations: "*", keys: ["**"] }
`);
    const d = (who: string, op: Operation) => decide(p, request(`${TD}/prod/${who}`, op));
    expect(d("rd", "unwrap")).toMatchObject({ allowed: true });
    expect(d("rd", "decrypt")).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    expect(d("rd", "key.rotate")).toMatchObject({ allowed: false, rule: "builtin:workload-no-admin" });
    // rot holds a key-admin-based and a workload-based role: both invariants bite
    expect(d("rot", "unwrap")).toMatchObject({ allowed: false, rule: "builtin:admin-no-plaintext" });
    expect(d("rot", "key.rotate")).toMatchObject({ allowed: false, rule: "builtin:workload-no-admin" });
    expect(d("rot", "key.show")).toMatchObject({ allowed: true });
    expect(() => parsePolicy(`version: 1\nroles:\n  sneaky: { base: key-admin, operations: [key.rotate, decrypt] }\n`)).toThrow(/cannot have decrypt/);
  });

  it("a role's rule grants only within that role, even to a principal holding others", () => {
    const p = parsePolicy(`version: 1
bindings:
  - { identity: "${TD}/prod/x", role: auditor }
  - { identity: "${TD}/prod/x", role: workload }
rules:
  - { id: audit, role: auditor, operations: "*", keys: ["**"] }
`);
    expect(decide(p, request(`${TD}/prod/x`, "audit.read"))).toMatchObject({ allowed: true, rule: "audit" });
    expect(decide(p, request(`${TD}/prod/x`, "unwrap"))).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
  });
});
