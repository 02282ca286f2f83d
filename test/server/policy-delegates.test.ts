/** Delegation in the policy engine: parsing `delegates`, the decision for both identities, the built-in refusals, and self-grant. */
import { describe, expect, it } from "vitest";
import { decideDelegated, decideDelegateOnly, decideDelegateOperation, parsePolicy, validateProposal } from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";
const now = new Date("2025-06-02T10:00:00Z");
const BASE = `version: 1
groups:
  trainers: ["${TD}/prod/trainer"]
  admins: ["${TD}/prod/ops"]
  pas: ["${TD}/prod/pa-1", "${TD}/prod/pa-2"]
bindings:
  - { group: trainers, role: workload }
  - { identity: "${TD}/prod/gateway", role: workload }
  - { group: admins, role: key-admin }
  - { group: pas, role: policy-admin }
rules:
  - { id: train, group: trainers, operations: [unwrap], keys: ["prod/datasets/**"] }
  - { id: admin, group: admins, operations: "*", keys: ["**"] }
  - { id: pa, group: pas, operations: [policy.propose, policy.approve] }
`;
const policy = parsePolicy(`${BASE}delegates:
  - { id: gw, delegate: "${TD}/prod/gateway", for: trainers, operations: [unwrap], keys: ["prod/**"] }
  - { id: admin-gw, delegate: "${TD}/prod/ops", for: ["${TD}/prod/*"] }
  - { id: dev-gw, delegate: "${TD}/dev/gateway", for: ["${TD}/prod/trainer"] }
  - { id: self, delegate: "${TD}/prod/trainer", for: ["${TD}/prod/trainer"] }
`);
const req = (delegate: string, principal: string, keyName = "prod/datasets/raw") => ({
  delegate: `${TD}/${delegate}`,
  principal: `${TD}/${principal}`,
  operation: "unwrap",
  keyName,
  now,
});

describe("delegates", () => {
  it("allows when the delegation covers the pair AND the identity itself is allowed; both rule ids are kept", () => {
    expect(decideDelegated(policy, req("prod/gateway", "prod/trainer"))).toMatchObject({ allowed: true, rule: "train", delegation: "gw" });
  });
  it("refuses a key the identity may use but the delegation does not cover, and one the identity may not use", () => {
    expect(decideDelegated(policy, req("prod/gateway", "prod/trainer", "shared/x"))).toMatchObject({ allowed: false, rule: "builtin:no-delegation" });
    expect(decideDelegated(policy, req("prod/gateway", "prod/trainer", "prod/models/m"))).toMatchObject({
      allowed: false,
      rule: "builtin:default-deny",
      delegation: "gw",
    });
  });
  it("refuses an identity outside `for`, a delegate not named, a key administrator, another environment, itself", () => {
    expect(decideDelegated(policy, req("prod/gateway", "prod/stranger")).rule).toBe("builtin:no-delegation");
    expect(decideDelegated(policy, req("prod/other-gw", "prod/trainer")).rule).toBe("builtin:no-delegation");
    expect(decideDelegated(policy, req("prod/ops", "prod/trainer")).rule).toBe("builtin:admin-no-plaintext");
    expect(decideDelegated(policy, req("dev/gateway", "prod/trainer")).rule).toBe("builtin:environment-isolation");
    expect(decideDelegated(policy, req("prod/trainer", "prod/trainer")).rule).toBe("builtin:invalid-request");
  });
  it("only unwrap can be delegated (parse error otherwise), and garbage is denied, never thrown", () => {
    expect(() => parsePolicy(`${BASE}delegates:\n  - { id: x, delegate: "${TD}/prod/gateway", for: trainers, operations: [decrypt] }\n`)).toThrow(
      /cannot be delegated/,
    );
    expect(() => parsePolicy(`${BASE}delegates:\n  - { id: train, delegate: "${TD}/prod/gateway", for: trainers }\n`)).toThrow(/duplicate id/);
    expect(decideDelegated(policy, { ...req("prod/gateway", "prod/trainer"), operation: "decrypt" }).rule).toBe("builtin:no-delegation");
    expect(decideDelegated(policy, { ...req("prod/gateway", "prod/trainer"), delegate: "nobody" }).rule).toBe("builtin:invalid-request");
  });
  it("the gate passes a named delegate, and is sound for delegate-only operations", () => {
    expect(decideDelegateOperation(policy, `${TD}/prod/gateway`, "unwrap").allowed).toBe(true);
    expect(decideDelegateOperation(policy, `${TD}/prod/stranger`, "unwrap").allowed).toBe(false);
    expect(decideDelegateOnly(policy, `${TD}/prod/gateway`, "token.verify", `${TD}/prod/trainer`).allowed).toBe(true);
    expect(decideDelegateOnly(policy, `${TD}/prod/gateway`, "token.verify", `${TD}/prod/ops`).allowed).toBe(false);
    expect(decideDelegateOnly(policy, `${TD}/prod/stranger`, "audit.append", undefined).allowed).toBe(false);
  });
  it("a policy admin cannot propose a delegation naming itself (self-grant), nor widen its own", () => {
    const active = parsePolicy(BASE);
    const proposal = `${BASE}delegates:\n  - { id: me, delegate: "${TD}/prod/pa-1", for: trainers }\n`;
    expect(validateProposal(active, proposal, `${TD}/prod/pa-1`, now)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(validateProposal(active, proposal, `${TD}/prod/pa-2`, now).allowed).toBe(true); // for someone else: a second admin approves it
    const withOwn = parsePolicy(proposal);
    const wider = `${BASE}delegates:\n  - { id: me, delegate: "${TD}/prod/pa-1", for: ["${TD}/prod/*"] }\n`;
    expect(validateProposal(withOwn, wider, `${TD}/prod/pa-1`, now).rule).toBe("builtin:no-self-grant");
    expect(validateProposal(withOwn, proposal, `${TD}/prod/pa-1`, now).allowed).toBe(true); // unchanged: nothing new
  });
});
