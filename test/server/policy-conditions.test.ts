/** decide: environments, encryption context, time windows (at their boundaries), deny by default, bad requests. */
import { describe, expect, it } from "vitest";
import { decide, keyEnvironment, parsePolicy, type PolicyRequest } from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";
const now = new Date("2025-06-02T10:00:00Z"); // a Monday

const ENV_POLICY = parsePolicy(`
version: 1
groups:
  trainers: ["${TD}/*/trainer"]
  everything: ["${TD}/*/*"]
bindings:
  - { group: trainers, role: workload }
  - { identity: "${TD}/*/ops", role: key-admin }
rules:
  - { id: trainers-any-key, group: trainers, operations: "*", keys: ["**"] }
  - { id: ops-any-key, identity: "${TD}/*/ops", operations: "*", keys: ["*/**"] }
`);
const unwrap = (who: string, keyName: string, extra: Partial<PolicyRequest> = {}) =>
  decide(ENV_POLICY, { principal: `${TD}/${who}`, operation: "unwrap", keyName, now, ...extra });

describe("environment isolation", () => {
  it("a dev identity cannot use a prod key and a prod identity cannot use a dev key, whatever the wildcards", () => {
    expect(unwrap("prod/trainer", "prod/datasets/raw")).toMatchObject({ allowed: true, rule: "trainers-any-key" });
    expect(unwrap("dev/trainer", "dev/datasets/raw")).toMatchObject({ allowed: true });
    expect(unwrap("dev/trainer", "prod/datasets/raw")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("prod/trainer", "dev/datasets/raw")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("staging/trainer", "test/x")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("dev/trainer", "prod/datasets/raw").reason).toMatch(/dev principal cannot use prod key/);
  });
  it("applies to administrators and lifecycle operations too", () => {
    const rotate = (who: string, keyName: string) => decide(ENV_POLICY, { principal: `${TD}/${who}`, operation: "key.rotate", keyName, now });
    expect(rotate("prod/ops", "prod/k")).toMatchObject({ allowed: true, rule: "ops-any-key" });
    expect(rotate("dev/ops", "prod/k")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
  });
  it("an identity from an environment that is not a key environment cannot use any environment's keys", () => {
    expect(unwrap("ops-env/trainer", "prod/x")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("ops-env/trainer", "shared/x")).toMatchObject({ allowed: true });
  });
  it("a key whose first segment is not an environment is shared; its metadata environment wins", () => {
    expect(unwrap("dev/trainer", "datasets/raw")).toMatchObject({ allowed: true });
    expect(unwrap("dev/trainer", "production/x")).toMatchObject({ allowed: true }); // not an environment name
    expect(unwrap("dev/trainer", "datasets/raw", { keyEnv: "prod" })).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("prod/trainer", "datasets/raw", { keyEnv: "prod" })).toMatchObject({ allowed: true });
    expect(unwrap("dev/trainer", "dev", {})).toMatchObject({ allowed: true }); // a one-segment name is no environment prefix
  });
  it("metadata and name that disagree are refused for everyone", () => {
    expect(unwrap("prod/trainer", "dev/x", { keyEnv: "prod" })).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(unwrap("dev/trainer", "dev/x", { keyEnv: "prod" })).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(keyEnvironment(ENV_POLICY, "dev/x", "prod")).toBeNull();
  });
  it("a policy names its own environments", () => {
    const p = parsePolicy(
      `version: 1\nenvironments: [eu-prod, us-prod]\nbindings:\n  - { identity: "${TD}/*/t", role: workload }\nrules:\n  - { id: all, identity: "${TD}/*/t", operations: [unwrap], keys: ["**"] }\n`,
    );
    const d = (who: string, key: string) => decide(p, { principal: `${TD}/${who}/t`, operation: "unwrap", keyName: key, now });
    expect(d("eu-prod", "us-prod/k")).toMatchObject({ allowed: false, rule: "builtin:environment-isolation" });
    expect(d("eu-prod", "eu-prod/k")).toMatchObject({ allowed: true });
    expect(d("eu-prod", "prod/k")).toMatchObject({ allowed: true }); // "prod" is not an environment of this policy
  });
  it("a rule's env condition narrows further", () => {
    const p = parsePolicy(
      `version: 1\nbindings:\n  - { identity: "${TD}/*/t", role: workload }\nrules:\n  - { id: prod-only, identity: "${TD}/*/t", operations: [unwrap], keys: ["shared/*"], when: { env: [prod] } }\n`,
    );
    const d = (env: string) => decide(p, { principal: `${TD}/${env}/t`, operation: "unwrap", keyName: "shared/k", now });
    expect(d("prod")).toMatchObject({ allowed: true });
    expect(d("dev")).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    expect(d("dev").reason).toMatch(/prod-only.*environment dev/);
  });
});

describe("key patterns", () => {
  const p = parsePolicy(`version: 1
bindings:
  - { identity: "${TD}/prod/t", role: workload }
rules:
  - { id: one-level, identity: "${TD}/prod/t", operations: [encrypt], keys: ["prod/datasets/*"] }
  - { id: any-depth, identity: "${TD}/prod/t", operations: [decrypt], keys: ["prod/**"] }
  - { id: middle, identity: "${TD}/prod/t", operations: [sign], keys: ["prod/**/signing", "prod/raw-*"] }
`);
  const d = (operation: "encrypt" | "decrypt" | "sign", keyName: string) => decide(p, { principal: `${TD}/prod/t`, operation, keyName, now }).allowed;
  it("* is one segment, ** any number", () => {
    expect(d("encrypt", "prod/datasets/raw")).toBe(true);
    expect(d("encrypt", "prod/datasets/raw/x")).toBe(false);
    expect(d("encrypt", "prod/datasets")).toBe(false);
    expect(d("encrypt", "prod/datasetsx/raw")).toBe(false);
    expect(d("decrypt", "prod/a")).toBe(true);
    expect(d("decrypt", "prod/a/b/c")).toBe(true);
    expect(d("decrypt", "prodx/a")).toBe(false);
    expect(d("sign", "prod/signing")).toBe(true);
    expect(d("sign", "prod/a/b/signing")).toBe(true);
    expect(d("sign", "prod/a/signing/x")).toBe(false);
    expect(d("sign", "prod/raw-2024")).toBe(true);
    expect(d("sign", "prod/raw")).toBe(false);
  });
  it("a dot in a pattern is literal", () => {
    const q = parsePolicy(
      `version: 1\nbindings:\n  - { identity: "${TD}/prod/t", role: workload }\nrules:\n  - { id: r, identity: "${TD}/prod/t", operations: [hmac], keys: ["a.b"] }\n`,
    );
    expect(decide(q, { principal: `${TD}/prod/t`, operation: "hmac", keyName: "a.b", now }).allowed).toBe(true);
    expect(decide(q, { principal: `${TD}/prod/t`, operation: "hmac", keyName: "axb", now }).allowed).toBe(false);
  });
});

describe("conditions", () => {
  const p = parsePolicy(`version: 1
bindings:
  - { identity: "${TD}/prod/t", role: workload }
rules:
  - id: ctx
    identity: "${TD}/prod/t"
    operations: [unwrap]
    keys: ["prod/ctx"]
    when: { context: { dataset: [raw, features], tenant: [acme] } }
  - id: office-hours
    identity: "${TD}/prod/t"
    operations: [unwrap]
    keys: ["prod/hours"]
    when: { hours: { from: 8, to: 18 }, days: [mon, tue, wed, thu, fri] }
  - id: night
    identity: "${TD}/prod/t"
    operations: [unwrap]
    keys: ["prod/night"]
    when: { hours: { from: 22, to: 6 } }
  - id: window
    identity: "${TD}/prod/t"
    operations: [unwrap]
    keys: ["prod/window"]
    when: { notBefore: "2025-03-01T00:00:00Z", notAfter: "2025-03-31T23:59:59+02:00" }
`);
  const d = (keyName: string, at: string, context?: Record<string, string>) =>
    decide(p, { principal: `${TD}/prod/t`, operation: "unwrap", keyName, now: new Date(at), ...(context ? { context } : {}) });

  it("encryption-context values: every listed key present and one of its values", () => {
    const t = "2025-06-02T10:00:00Z";
    expect(d("prod/ctx", t, { dataset: "raw", tenant: "acme" })).toMatchObject({ allowed: true, rule: "ctx" });
    expect(d("prod/ctx", t, { dataset: "features", tenant: "acme", extra: "ok" })).toMatchObject({ allowed: true });
    expect(d("prod/ctx", t, { dataset: "labels", tenant: "acme" })).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    expect(d("prod/ctx", t, { dataset: "raw" })).toMatchObject({ allowed: false });
    expect(d("prod/ctx", t, { dataset: "RAW", tenant: "acme" })).toMatchObject({ allowed: false });
    expect(d("prod/ctx", t)).toMatchObject({ allowed: false });
    expect(d("prod/ctx", t, Object.assign(Object.create({ dataset: "raw", tenant: "acme" }) as Record<string, string>))).toMatchObject({ allowed: false }); // inherited entries do not count
    expect(d("prod/ctx", t, { dataset: "labels", tenant: "acme" }).reason).not.toContain("labels"); // no context values in reasons
  });
  it("UTC hours [from, to) and days", () => {
    expect(d("prod/hours", "2025-06-02T07:59:59.999Z").allowed).toBe(false);
    expect(d("prod/hours", "2025-06-02T08:00:00Z").allowed).toBe(true);
    expect(d("prod/hours", "2025-06-02T17:59:59.999Z").allowed).toBe(true);
    expect(d("prod/hours", "2025-06-02T18:00:00Z").allowed).toBe(false);
    expect(d("prod/hours", "2025-06-01T10:00:00Z").allowed).toBe(false); // Sunday
    expect(d("prod/hours", "2025-06-06T17:00:00Z").allowed).toBe(true); // Friday
    expect(d("prod/hours", "2025-06-07T10:00:00Z").allowed).toBe(false); // Saturday
    // Monday 09:00 in UTC+10 is Sunday 23:00 UTC: UTC decides
    expect(d("prod/hours", "2025-06-02T09:00:00+10:00").allowed).toBe(false);
  });
  it("hour windows that wrap past midnight", () => {
    expect(d("prod/night", "2025-06-02T21:59:59Z").allowed).toBe(false);
    expect(d("prod/night", "2025-06-02T22:00:00Z").allowed).toBe(true);
    expect(d("prod/night", "2025-06-02T00:00:00Z").allowed).toBe(true);
    expect(d("prod/night", "2025-06-02T05:59:59Z").allowed).toBe(true);
    expect(d("prod/night", "2025-06-02T06:00:00Z").allowed).toBe(false);
  });
  it("notBefore and notAfter are inclusive, with time zones honoured", () => {
    expect(d("prod/window", "2025-02-28T23:59:59.999Z").allowed).toBe(false);
    expect(d("prod/window", "2025-03-01T00:00:00Z").allowed).toBe(true);
    expect(d("prod/window", "2025-03-31T21:59:59Z").allowed).toBe(true);
    expect(d("prod/window", "2025-03-31T21:59:59.001Z").allowed).toBe(false);
    expect(d("prod/window", "2025-03-31T23:00:00Z").reason).toMatch(/after when.notAfter/);
  });
});

describe("deny by default and malformed requests", () => {
  const empty = parsePolicy("version: 1\n");
  it("an empty policy denies everything", () => {
    for (const operation of ["key.list", "unwrap", "policy.propose", "audit.read"] as const) {
      expect(decide(empty, { principal: `${TD}/prod/x`, operation, keyName: "prod/k", now })).toMatchObject({ allowed: false, rule: "builtin:default-deny" });
    }
  });
  it("malformed requests are denied, never thrown", () => {
    const bad: unknown[] = [
      { principal: "alice", operation: "unwrap", keyName: "k", now },
      { principal: `${TD}/prod`, operation: "unwrap", keyName: "k", now },
      { principal: `${TD}/prod/x`, operation: "unwrap-all", keyName: "k", now },
      { principal: `${TD}/prod/x`, operation: "toString", keyName: "k", now },
      { principal: `${TD}/prod/x`, operation: "unwrap", now },
      { principal: `${TD}/prod/x`, operation: "unwrap", keyName: "../etc", now },
      { principal: `${TD}/prod/x`, operation: "unwrap", keyName: "k", now: new Date("x") },
      { principal: `${TD}/prod/x`, operation: "unwrap", keyName: "k", now: "2025-01-01" },
      { principal: `${TD}/prod/x`, operation: "unwrap", keyName: "k", now, keyEnv: "" },
      { principal: `${TD}/prod/x`, operation: "unwrap", keyName: "k", now, context: "dataset=raw" },
      null,
      undefined,
      {},
    ];
    for (const r of bad) expect(decide(ENV_POLICY, r as PolicyRequest)).toMatchObject({ allowed: false, rule: "builtin:invalid-request" });
  });
  it("a bearer token cannot mint tokens", () => {
    const p = parsePolicy(
      `version: 1\nbindings:\n  - { identity: "${TD}/prod/x", role: workload }\nrules:\n  - { id: mint, identity: "${TD}/prod/x", operations: [token.mint] }\n`,
    );
    expect(decide(p, { principal: `${TD}/prod/x`, operation: "token.mint", now, auth: "mtls" })).toMatchObject({ allowed: true, rule: "mint" });
    expect(decide(p, { principal: `${TD}/prod/x`, operation: "token.mint", now, auth: "token" })).toMatchObject({
      allowed: false,
      rule: "builtin:token-cannot-mint",
    });
  });
  it("unkeyed operations: rules without keys match; a key filter must match rules with keys", () => {
    const p = parsePolicy(`version: 1
bindings:
  - { identity: "${TD}/prod/x", role: auditor }
  - { identity: "${TD}/prod/y", role: auditor }
rules:
  - { id: list-all, identity: "${TD}/prod/x", operations: [key.list] }
  - { id: list-some, identity: "${TD}/prod/y", operations: [key.list], keys: ["prod/a/*"] }
`);
    const d = (who: string, keyName?: string) =>
      decide(p, { principal: `${TD}/prod/${who}`, operation: "key.list", now, ...(keyName ? { keyName } : {}) }).allowed;
    expect([d("x"), d("x", "prod/b/1"), d("y", "prod/a/1"), d("y", "prod/b/1")]).toEqual([true, true, true, false]);
    expect(d("y")).toBe(true); // listing is allowed; the server filters per key with keyName
  });
});
