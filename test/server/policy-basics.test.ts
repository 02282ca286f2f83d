/** Policy engine basics: parse a realistic policy, decide, approve. */
import { describe, expect, it } from "vitest";
import { canApprove, decide, parsePolicy, validateProposal } from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";
const POLICY = `
version: 1
groups:
  trainers: ["${TD}/*/trainer"]
  key-admins: ["${TD}/prod/ops-alice", "${TD}/prod/ops-bob"]
  policy-admins: ["${TD}/prod/pa-carol", "${TD}/prod/pa-dave"]
bindings:
  - { group: trainers, role: workload }
  - { group: key-admins, role: key-admin }
  - { group: policy-admins, role: policy-admin }
rules:
  - id: trainers-read-datasets
    group: trainers
    operations: [unwrap, datakey.generate, key.show]
    keys: ["prod/datasets/*", "dev/datasets/*"]
    when:
      context: { dataset: [raw, features] }
  - id: admins-manage-prod
    role: key-admin
    operations: "*"
    keys: ["prod/**"]
  - id: policy-admins
    role: policy-admin
    operations: [policy.propose, policy.approve]
`;
const now = new Date("2025-06-02T10:00:00Z");

describe("policy basics", () => {
  const policy = parsePolicy(POLICY);
  it("allows by rule and denies by default", () => {
    const d = decide(policy, { principal: `${TD}/prod/trainer`, operation: "unwrap", keyName: "prod/datasets/raw", context: { dataset: "raw" }, now });
    expect(d).toMatchObject({ allowed: true, rule: "trainers-read-datasets" });
    expect(
      decide(policy, { principal: `${TD}/prod/trainer`, operation: "unwrap", keyName: "prod/datasets/raw", context: { dataset: "other" }, now }),
    ).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    expect(decide(policy, { principal: `${TD}/prod/ops-alice`, operation: "key.rotate", keyName: "prod/datasets/raw", now })).toMatchObject({
      allowed: true,
      rule: "admins-manage-prod",
    });
    expect(decide(policy, { principal: `${TD}/prod/ops-alice`, operation: "unwrap", keyName: "prod/datasets/raw", now })).toMatchObject({
      allowed: false,
      rule: "builtin:admin-no-plaintext",
    });
    expect(
      decide(policy, { principal: `${TD}/dev/trainer`, operation: "unwrap", keyName: "prod/datasets/raw", context: { dataset: "raw" }, now }),
    ).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
  });
  it("proposals and approvals", () => {
    const selfAdd = POLICY.replace(`key-admins: [`, `key-admins: ["${TD}/prod/pa-carol", `);
    expect(validateProposal(policy, selfAdd, `${TD}/prod/pa-carol`, now)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(validateProposal(policy, selfAdd, `${TD}/prod/pa-dave`, now)).toMatchObject({ allowed: true });
    const proposal = { proposer: `${TD}/prod/pa-dave`, policyText: selfAdd };
    expect(canApprove(proposal, `${TD}/prod/pa-dave`, policy, now)).toMatchObject({ allowed: false, rule: "builtin:approver-same-identity" });
    expect(canApprove(proposal, `${TD}/prod/pa-carol`, policy, now)).toMatchObject({ allowed: false, rule: "builtin:no-self-grant" });
    expect(canApprove({ proposer: `${TD}/prod/pa-carol`, policyText: POLICY }, `${TD}/prod/pa-dave`, policy, now)).toMatchObject({ allowed: true });
  });
});
