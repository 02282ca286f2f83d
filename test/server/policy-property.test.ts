/**
 * Property tests over random policies (seeded PRNG, reproducible): whatever a parsable policy
 * says, a key administrator never unwraps/decrypts/gets a plaintext data key, a workload never
 * manages keys or policy, nobody crosses environments, and a proposal accepted for its
 * proposer never lets the proposer do anything it could not do before.
 * Role membership here is computed independently with src/pki's identityAllowed.
 */
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { identityAllowed } from "../../src/pki/identity.js";
import { prng } from "../helpers/prng.js";
import {
  BUILTIN_ROLE_OPERATIONS,
  BUILTIN_ROLES,
  type BuiltinRole,
  decide,
  decideOperation,
  OPERATIONS,
  type Operation,
  parsePolicy,
  type Policy,
  validateProposal,
} from "../../src/server/policy/index.js";

const TD = "acme.ml";
const ENVS = ["dev", "prod", "ops"];
const SERVICES = ["alice", "bob", "trainer", "scorer"];
const PRINCIPALS = ENVS.flatMap((e) => SERVICES.map((s) => `spiffe://${TD}/${e}/${s}`));
const KEY_PATTERNS = ["**", "*/**", "prod/**", "dev/**", "prod/*", "datasets/*", "*/datasets/*", "prod/**/raw", "dev/datasets/raw-*"];
const KEYS = ["prod/datasets/raw", "dev/datasets/raw-1", "datasets/raw", "prod/raw", "prod/a/b/raw", "dev/x", "shared/k"];
const TIMES = ["2025-06-02T10:00:00Z", "2025-06-01T23:30:00Z", "2026-01-01T05:00:00Z"].map((t) => new Date(t));
const CONTEXTS = [undefined, { dataset: "raw" }, { dataset: "features", tenant: "acme" }];
const PLAINTEXT: Operation[] = ["unwrap", "decrypt", "datakey.generate-plaintext"];
const ADMIN: Operation[] = ["key.create", "key.rotate", "key.destroy", "key.disable", "key.enable", "key.set-min-version", "policy.propose", "policy.approve"];

interface Raw {
  version: 1;
  groups: Record<string, string[]>;
  roles: Record<string, { base: BuiltinRole; operations: string[] }>;
  bindings: Record<string, string>[];
  rules: Record<string, unknown>[];
}

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const some = <T>(xs: readonly T[], p = 0.3): T[] => {
    const out = xs.filter(() => rand() < p);
    return out.length > 0 ? out : [pick(xs)];
  };
  const idPattern = () => `spiffe://${TD}/${rand() < 0.3 ? "*" : pick(ENVS)}/${rand() < 0.3 ? "*" : pick(SERVICES)}`;
  const conditions = () => {
    const w: Record<string, unknown> = {};
    if (rand() < 0.2) w.env = some(ENVS);
    if (rand() < 0.2) w.context = { dataset: some(["raw", "features"]) };
    if (rand() < 0.2) w.hours = { from: Math.floor(rand() * 24), to: 1 + Math.floor(rand() * 23) };
    if (rand() < 0.1) w.days = some(["mon", "tue", "sun"]);
    if (rand() < 0.1) w.notAfter = "2025-12-31T00:00:00Z";
    if (w.hours && (w.hours as { from: number; to: number }).from === (w.hours as { to: number }).to) delete w.hours;
    return w;
  };
  function policy(): Raw {
    const groups: Raw["groups"] = {};
    for (let i = 0, n = Math.floor(rand() * 4); i < n; i++) groups[`g${i}`] = Array.from({ length: 1 + Math.floor(rand() * 3) }, idPattern);
    const roles: Raw["roles"] = {};
    for (let i = 0, n = Math.floor(rand() * 3); i < n; i++) {
      const base = pick(BUILTIN_ROLES);
      roles[`c${i}`] = { base, operations: some(BUILTIN_ROLE_OPERATIONS[base], 0.5) };
    }
    const roleNames = [...BUILTIN_ROLES, ...Object.keys(roles)];
    const subject = (): Record<string, string> => {
      const r = rand();
      if (r < 0.3 && Object.keys(groups).length > 0) return { group: pick(Object.keys(groups)) };
      if (r < 0.6) return { role: pick(roleNames) };
      return { identity: idPattern() };
    };
    const bindings = Array.from({ length: Math.floor(rand() * 7) }, () => {
      const s = subject();
      return { ...(s.role ? { identity: idPattern() } : s), role: pick(roleNames) };
    });
    const rules = Array.from({ length: Math.floor(rand() * 6) }, (_, i) => {
      const s = subject();
      const ceiling = s.role ? [...(roles[s.role]?.operations ?? BUILTIN_ROLE_OPERATIONS[s.role as BuiltinRole])] : [...OPERATIONS];
      const w = conditions();
      return {
        id: `r${i}`,
        ...s,
        operations: rand() < 0.3 ? "*" : some(ceiling, 0.4),
        keys: some(KEY_PATTERNS, 0.25),
        ...(Object.keys(w).length ? { when: w } : {}),
      };
    });
    return { version: 1, groups, roles, bindings, rules };
  }
  /** A random edit of a policy: widen or narrow something. */
  function mutate(p: Raw): Raw {
    const q: Raw = structuredClone(p);
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) {
      const r = rand();
      const fresh = policy();
      if (r < 0.2 && Object.keys(q.groups).length > 0) q.groups[pick(Object.keys(q.groups))]!.push(idPattern());
      else if (r < 0.4) q.bindings.push(...fresh.bindings.filter((b) => !b.group && (!b.role!.startsWith("c") || q.roles[b.role!])).slice(0, 1));
      else if (r < 0.6 && q.rules.length > 0) {
        const rule = pick(q.rules);
        if (rand() < 0.5) rule.keys = some(KEY_PATTERNS, 0.25);
        else delete rule.when;
      } else if (r < 0.8)
        q.rules.push(
          ...fresh.rules
            .filter((x) => !x.group && (!x.role || !(x.role as string).startsWith("c")))
            .map((x, j) => ({ ...x, id: `m${i}-${j}` }))
            .slice(0, 1),
        );
      else if (Object.keys(q.roles).length > 0) {
        const name = pick(Object.keys(q.roles));
        q.roles[name]!.operations = some(BUILTIN_ROLE_OPERATIONS[q.roles[name]!.base], 0.5);
        // keep role rules within the (possibly narrower) role
        q.rules = q.rules.filter((x) => x.role !== name || x.operations === "*");
      }
    }
    return q;
  }
  return { policy, mutate, pick };
}

/** The built-in roles `who` holds under `raw`, computed without the engine. */
function basesOf(raw: Raw, who: string): Set<BuiltinRole> {
  const out = new Set<BuiltinRole>();
  for (const b of raw.bindings) {
    const patterns = b.group ? raw.groups[b.group]! : [b.identity!];
    if (identityAllowed(who, patterns)) out.add((raw.roles[b.role!]?.base ?? b.role) as BuiltinRole);
  }
  return out;
}

const requests = function* () {
  for (const principal of PRINCIPALS) for (const operation of OPERATIONS) for (const keyName of KEYS) yield { principal, operation, keyName };
};

describe("random policies (seeded)", () => {
  it("never let an admin see plaintext, a workload administer, or anyone cross environments", () => {
    const rand = prng(0x5eed_0004);
    const gen = generator(rand);
    let parsed = 0;
    let allowedSeen = 0;
    for (let iter = 0; iter < 400; iter++) {
      const raw = gen.policy();
      const policy = parsePolicy(stringify(raw));
      parsed++;
      for (const { principal, operation, keyName } of requests()) {
        const now = gen.pick(TIMES);
        const context = gen.pick(CONTEXTS);
        const d = decide(policy, { principal, operation, keyName, now, ...(context ? { context } : {}) });
        if (!d.allowed) continue;
        allowedSeen++;
        const bases = basesOf(raw, principal);
        const where = `iter ${iter} ${principal} ${operation} ${keyName} by ${d.rule}`;
        expect(bases.has("key-admin") && PLAINTEXT.includes(operation), where).toBe(false);
        expect(bases.has("workload") && ADMIN.includes(operation), where).toBe(false);
        expect(
          policy.rules.some((r) => r.id === d.rule),
          where,
        ).toBe(true);
        const keyEnv = keyName.split("/")[0]!;
        if (["dev", "test", "staging", "prod"].includes(keyEnv) && keyName.includes("/")) expect(principal.split("/")[3], where).toBe(keyEnv);
        // the principal holds some role that includes the operation
        expect(
          [...bases].some((b) => (BUILTIN_ROLE_OPERATIONS[b] as readonly string[]).includes(operation)),
          where,
        ).toBe(true);
      }
    }
    expect(parsed).toBe(400);
    expect(allowedSeen).toBeGreaterThan(1000); // the generator does produce permissive policies
  });

  it("decideOperation (the decision before the body is read) never denies what decide would allow for some key and context", () => {
    const rand = prng(0x5eed_0006);
    const gen = generator(rand);
    let gated = 0;
    let passed = 0;
    for (let iter = 0; iter < 20; iter++) {
      const policy = parsePolicy(stringify(gen.policy()));
      for (const principal of PRINCIPALS) {
        for (const operation of OPERATIONS) {
          for (const now of TIMES) {
            {
              const auth = gen.pick(["mtls", "token"] as const);
              const gate = decideOperation(policy, { principal, operation, now, auth });
              if (gate.allowed) {
                passed++;
                continue;
              }
              gated++;
              for (const keyName of [...KEYS, undefined]) {
                for (const context of CONTEXTS) {
                  const d = decide(policy, { principal, operation, now, auth, ...(keyName ? { keyName } : {}), ...(context ? { context } : {}) });
                  expect(
                    d.allowed,
                    `iter ${iter}: ${principal} ${operation} ${keyName} ${now.toISOString()} ${auth}: gate ${gate.rule}, decide ${d.rule}`,
                  ).toBe(false);
                }
              }
            }
          }
        }
      }
    }
    // both outcomes are exercised
    expect(gated).toBeGreaterThan(2000);
    expect(passed).toBeGreaterThan(100);
  });

  it("a proposal accepted for its proposer never widens what the proposer may do", () => {
    const rand = prng(0x5eed_0005);
    const gen = generator(rand);
    let accepted = 0;
    let refused = 0;
    for (let iter = 0; iter < 300; iter++) {
      const raw = gen.policy();
      // make a policy admin who may propose
      const proposer = gen.pick(PRINCIPALS);
      raw.bindings.push({ identity: proposer, role: "policy-admin" });
      raw.rules.push({ id: "propose", identity: proposer, operations: ["policy.propose"] });
      const active: Policy = parsePolicy(stringify(raw));
      const proposedRaw = gen.mutate(raw);
      const proposed = parsePolicy(stringify(proposedRaw));
      const d = validateProposal(active, proposed, proposer, TIMES[0]!);
      if (!d.allowed) {
        if (d.rule === "builtin:no-self-grant") refused++;
        continue;
      }
      accepted++;
      for (const operation of OPERATIONS) {
        for (const keyName of KEYS) {
          for (const now of TIMES) {
            for (const context of CONTEXTS) {
              const req = { principal: proposer, operation, keyName, now, ...(context ? { context } : {}) };
              if (decide(proposed, req).allowed)
                expect(decide(active, req).allowed, `iter ${iter}: ${operation} ${keyName} ${now.toISOString()}\n${stringify(proposedRaw)}`).toBe(true);
            }
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(80);
    expect(refused).toBeGreaterThan(40);
  });
});
