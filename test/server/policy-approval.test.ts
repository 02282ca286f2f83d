/** Proposals and approvals: no principal can grant itself; a second, different policy admin approves. */
import { describe, expect, it } from "vitest";
import { canApprove, decide, parsePolicy, PolicyError, validateProposal } from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";
const now = new Date("2025-06-02T10:00:00Z");
const CAROL = `${TD}/prod/pa-carol`;
const DAVE = `${TD}/prod/pa-dave`;
const ERIN = `${TD}/prod/pa-erin`; // custom policy role

const BASE = `version: 1
groups:
  policy-admins: ["${CAROL}", "${DAVE}"]
  key-admins: ["${TD}/prod/ops"]
  trainers: ["${TD}/prod/trainer"]
roles:
  proposer-only: { base: policy-admin, operations: [policy.propose, key.list] }
bindings:
  - { group: policy-admins, role: policy-admin }
  - { identity: "${ERIN}", role: proposer-only }
  - { group: key-admins, role: key-admin }
  - { group: trainers, role: workload }
  - { identity: "${TD}/prod/auditor", role: auditor }
rules:
  - { id: policy, group: policy-admins, operations: [policy.propose, policy.approve, key.list] }
  - { id: erin, identity: "${ERIN}", operations: [policy.propose] }
  - { id: carol-show, identity: "${CAROL}", operations: [key.show], keys: ["prod/public/*"], when: { notAfter: "2025-12-31T00:00:00Z" } }
  - { id: ops, group: key-admins, operations: "*", keys: ["prod/**"] }
  - { id: train, group: trainers, operations: [unwrap], keys: ["prod/datasets/*"] }
  - { id: audit, identity: "${TD}/prod/auditor", operations: [audit.read, policy.propose, policy.approve] }
`;
const active = parsePolicy(BASE);
/** Replace exactly one occurrence (fails loudly if the edit does not apply). */
const edit = (from: string, to: string, text = BASE) => {
  expect(text.split(from).length).toBe(2);
  return text.replace(from, to);
};
const propose = (text: string, who = CAROL) => validateProposal(active, text, who, now);

describe("validateProposal: no self-grant", () => {
  it("accepts an unchanged policy and changes that only touch others", () => {
    expect(propose(BASE)).toMatchObject({ allowed: true, rule: "policy" });
    expect(propose(edit(`trainers: ["${TD}/prod/trainer"]`, `trainers: ["${TD}/prod/trainer", "${TD}/prod/scorer"]`))).toMatchObject({ allowed: true });
    expect(propose(edit(`keys: ["prod/datasets/*"]`, `keys: ["prod/**"]`))).toMatchObject({ allowed: true });
  });
  it("refuses binding the proposer directly to a role", () => {
    const text = edit(`bindings:\n`, `bindings:\n  - { identity: "${CAROL}", role: key-admin }\n`);
    const d = propose(text);
    expect(d).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(d.reason).toMatch(/bind .*pa-carol to role key-admin/);
    expect(propose(text, DAVE)).toMatchObject({ allowed: true }); // someone else may propose it
  });
  it("refuses adding the proposer to a group bound to a role, including through a wildcard", () => {
    expect(propose(edit(`key-admins: ["${TD}/prod/ops"]`, `key-admins: ["${TD}/prod/ops", "${CAROL}"]`))).toMatchObject({
      allowed: false,
      rule: "builtin:no-self-grant",
    });
    expect(propose(edit(`key-admins: ["${TD}/prod/ops"]`, `key-admins: ["${TD}/prod/*"]`))).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(propose(edit(`key-admins: ["${TD}/prod/ops"]`, `key-admins: ["${TD}/*/*"]`))).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    // binding a group the proposer is already in to another role
    expect(
      propose(edit(`  - { group: trainers, role: workload }\n`, `  - { group: trainers, role: workload }\n  - { group: policy-admins, role: auditor }\n`)),
    ).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
  });
  it("refuses giving the proposer's own custom role new operations or another base", () => {
    const wider = edit(
      `proposer-only: { base: policy-admin, operations: [policy.propose, key.list] }`,
      `proposer-only: { base: policy-admin, operations: [policy.propose, policy.approve, key.list] }`,
    );
    expect(propose(wider, ERIN)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(propose(wider, ERIN).reason).toMatch(/own role proposer-only new operations: policy.approve/);
    expect(propose(wider, CAROL)).toMatchObject({ allowed: true }); // not Carol's role
    const rebased = edit(
      `proposer-only: { base: policy-admin, operations: [policy.propose, key.list] }`,
      `proposer-only: { base: auditor, operations: [key.list] }`,
    );
    expect(propose(rebased, ERIN)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
  });
  it("refuses rules that widen the proposer's own access: new rule, more keys, more operations, looser conditions", () => {
    const cases = [
      edit(`rules:\n`, `rules:\n  - { id: mine, identity: "${CAROL}", operations: [key.show], keys: ["prod/**"] }\n`),
      edit(`keys: ["prod/public/*"]`, `keys: ["prod/public/**"]`),
      edit(`keys: ["prod/public/*"]`, `keys: ["prod/*/*"]`),
      edit(`operations: [policy.propose, policy.approve, key.list] }`, `operations: [policy.propose, policy.approve, key.list, key.show], keys: ["**"] }`), // gains key.show on any key
      edit(`, when: { notAfter: "2025-12-31T00:00:00Z" } }`, ` }`),
      edit(`notAfter: "2025-12-31T00:00:00Z"`, `notAfter: "2026-12-31T00:00:00Z"`),
      edit(`{ id: audit, identity: "${TD}/prod/auditor"`, `{ id: audit, identity: "${TD}/prod/*"`), // a wildcard rule now covers Carol
    ];
    for (const text of cases) expect(propose(text)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
  });
  it("refuses dropping another environment (its keys would become shared); adding one is fine", () => {
    expect(propose(edit(`version: 1\n`, `version: 1\nenvironments: [test, staging, prod]\n`))).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(propose(edit(`version: 1\n`, `version: 1\nenvironments: [dev, test, staging, prod, qa]\n`))).toMatchObject({ allowed: true });
  });
  it("accepts narrowing the proposer's own access", () => {
    expect(propose(edit(`keys: ["prod/public/*"]`, `keys: ["prod/public/a"]`))).toMatchObject({ allowed: true });
    expect(propose(edit(`notAfter: "2025-12-31T00:00:00Z"`, `notAfter: "2025-07-01T00:00:00Z", hours: { from: 9, to: 17 }`))).toMatchObject({ allowed: true });
    expect(
      propose(
        edit(`  - { id: carol-show, identity: "${CAROL}", operations: [key.show], keys: ["prod/public/*"], when: { notAfter: "2025-12-31T00:00:00Z" } }\n`, ""),
      ),
    ).toMatchObject({ allowed: true });
  });
  it("only a principal allowed policy.propose may propose, and a workload never", () => {
    expect(propose(BASE, `${TD}/prod/trainer`)).toMatchObject({ allowed: false, rule: "builtin:workload-no-admin" });
    expect(propose(BASE, `${TD}/prod/ops`)).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    expect(propose(BASE, `${TD}/prod/auditor`)).toMatchObject({ allowed: false, rule: "builtin:default-deny" }); // the rule names it, no role allows it
    expect(propose(BASE, "not-an-identity")).toMatchObject({ allowed: false, rule: "builtin:invalid-request" });
  });
  it("a proposal that does not parse throws a PolicyError with its line", () => {
    expect(() => propose("version: 1\nrules:\n  - { id: x, role: nope, operations: [key.list] }\n")).toThrow(PolicyError);
    try {
      propose("version: 1\nrules:\n  - { id: x, role: nope, operations: [key.list] }\n");
    } catch (e) {
      expect((e as PolicyError).line).toBe(3);
    }
  });
});

describe("canApprove", () => {
  const proposal = { proposer: CAROL, policyText: edit(`trainers: ["${TD}/prod/trainer"]`, `trainers: ["${TD}/prod/trainer", "${TD}/prod/scorer"]`) };
  it("a second, different policy admin may approve", () => {
    const d = canApprove(proposal, DAVE, active, now);
    expect(d).toMatchObject({ allowed: true, rule: "policy" });
    const next = parsePolicy(proposal.policyText);
    expect(decide(next, { principal: `${TD}/prod/scorer`, operation: "unwrap", keyName: "prod/datasets/a", now }).allowed).toBe(true);
  });
  it("the proposer cannot approve its own proposal (another certificate of the same identity is the same principal)", () => {
    expect(canApprove(proposal, CAROL, active, now)).toMatchObject({ allowed: false, rule: "builtin:approver-same-identity" });
  });
  it("a principal without a policy-admin role holding policy.approve cannot approve", () => {
    for (const who of [`${TD}/prod/ops`, `${TD}/prod/auditor`, `${TD}/prod/trainer`, `${TD}/prod/stranger`, ERIN]) {
      expect([who, canApprove(proposal, who, active, now).rule]).toEqual([who, "builtin:approver-not-policy-admin"]);
    }
    expect(canApprove(proposal, "garbage", active, now)).toMatchObject({ allowed: false, rule: "builtin:invalid-request" });
    expect(canApprove({ proposer: "garbage", policyText: BASE }, DAVE, active, now)).toMatchObject({ allowed: false, rule: "builtin:invalid-request" });
  });
  it("an admin whose approve rule does not apply now cannot approve", () => {
    const timed = parsePolicy(
      edit(
        `{ id: policy, group: policy-admins, operations: [policy.propose, policy.approve, key.list] }`,
        `{ id: policy, group: policy-admins, operations: [policy.propose, policy.approve, key.list], when: { hours: { from: 9, to: 17 } } }`,
      ),
    );
    expect(canApprove(proposal, DAVE, timed, new Date("2025-06-02T20:00:00Z"))).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
  });
  it("the approver cannot approve a change that grants itself", () => {
    const p = { proposer: CAROL, policyText: edit(`key-admins: ["${TD}/prod/ops"]`, `key-admins: ["${TD}/prod/ops", "${DAVE}"]`) };
    expect(validateProposal(active, p.policyText, CAROL, now).allowed).toBe(true);
    expect(canApprove(p, DAVE, active, now)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
  });
  it("a proposal that would grant its proposer is refused at approval too", () => {
    const p = { proposer: CAROL, policyText: edit(`key-admins: ["${TD}/prod/ops"]`, `key-admins: ["${TD}/prod/ops", "${CAROL}"]`) };
    expect(canApprove(p, DAVE, active, now)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
  });
  it("a proposer who lost policy.propose since is refused at approval", () => {
    const later = parsePolicy(edit(`policy-admins: ["${CAROL}", "${DAVE}"]`, `policy-admins: ["${DAVE}"]`));
    expect(canApprove(proposal, DAVE, later, now)).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
  });
  it("an unparseable proposal is refused with its line", () => {
    const d = canApprove({ proposer: CAROL, policyText: "version: 1\nrulez: []\n" }, DAVE, active, now);
    expect(d).toMatchObject({ allowed: false, rule: "builtin:proposal-invalid" });
    expect(d.reason).toMatch(/policy:2:1: rulez: unknown key "rulez"/);
  });
});
