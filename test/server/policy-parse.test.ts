/** parsePolicy: malformed YAML and schema errors name the line and column. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { parsePolicy, PolicyError } from "../../src/server/policy/index.js";

const TD = "spiffe://acme.ml";

function errorOf(text: string): PolicyError {
  try {
    parsePolicy(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).code).toBe("INVALID_ARGUMENT");
    const pe = e as PolicyError;
    expect(pe.message).toContain(`policy:${pe.line}:${pe.column}: `);
    return pe;
  }
  throw new Error("expected a PolicyError");
}

// [what, yaml, line, column, message]
const CASES: [string, string, number, number, RegExp][] = [
  ["unclosed flow sequence", 'version: 1\ngroups:\n  g: ["a"\n', 4, 0, /YAML/],
  ["bad indentation", "version: 1\nrules:\n  - id: a\n   role: workload\n", 4, 0, /YAML/],
  ["tab indentation", "version: 1\ngroups:\n\tg: []\n", 3, 0, /YAML/],
  ["duplicate mapping key", "version: 1\nversion: 1\n", 2, 1, /YAML.*[Uu]nique|YAML.*duplicate/],
  ["not a mapping", "- a\n- b\n", 1, 1, /mapping/],
  ["missing version", "groups: {}\n", 1, 1, /`version` is required/],
  ["version 2", "version: 2\n", 1, 10, /version: must be 1/],
  ["unknown top-level key", "version: 1\nrulez: []\n", 2, 1, /^policy:2:1: rulez: unknown key "rulez" \(allowed: version, /],
  [
    "unknown rule key",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    effect: deny\n",
    6,
    5,
    /rules\[0\]\.effect: unknown key "effect"/,
  ],
  [
    "unknown operation",
    "version: 1\nrules:\n  - id: r\n    role: workload\n    keys: [a]\n    operations: [unwrap, unwarp]\n",
    6,
    26,
    /rules\[0\]\.operations\[1\]: must be one of key\.create, /,
  ],
  [
    "unknown role in binding",
    `version: 1\nbindings:\n  - { identity: "${TD}/prod/x", role: superuser }\n`,
    3,
    50,
    /bindings\[0\]\.role: unknown role \(roles: key-admin, policy-admin, workload, auditor\)/,
  ],
  [
    "unknown group in rule",
    "version: 1\nrules:\n  - id: r\n    group: nobody\n    operations: [audit.read]\n",
    4,
    12,
    /rules\[0\]\.group: unknown group \(no groups are defined\)/,
  ],
  [
    "binding with group and identity",
    `version: 1\ngroups: { g: ["${TD}/prod/x"] }\nbindings:\n  - group: g\n    identity: "${TD}/prod/x"\n    role: auditor\n`,
    4,
    5,
    /exactly one of `group` or `identity`/,
  ],
  ["redefined built-in role", "version: 1\nroles:\n  workload: { base: workload, operations: [unwrap] }\n", 3, 3, /built-in role/],
  ["custom role wider than its base", "version: 1\nroles:\n  ops:\n    base: key-admin\n    operations: [key.rotate, unwrap]\n", 5, 17, /cannot have unwrap/],
  ["custom role with no base", "version: 1\nroles:\n  ops: { operations: [key.rotate] }\n", 3, 8, /base/],
  [
    "role rule granting outside the role",
    "version: 1\nrules:\n  - id: r\n    role: key-admin\n    operations: [decrypt]\n    keys: ['**']\n",
    5,
    17,
    /key-admin can never have decrypt/,
  ],
  [
    "rule with two subjects",
    `version: 1\nrules:\n  - id: r\n    role: auditor\n    identity: "${TD}/prod/x"\n    operations: [audit.read]\n`,
    3,
    5,
    /exactly one subject/,
  ],
  ["rule with no subject", "version: 1\nrules:\n  - id: r\n    operations: [audit.read]\n", 3, 5, /exactly one subject/],
  ["keyed operation without keys", "version: 1\nrules:\n  - id: r\n    role: workload\n    operations: [unwrap]\n", 3, 5, /needs `keys`/],
  [
    "duplicate rule id",
    "version: 1\nrules:\n  - { id: r, role: auditor, operations: [audit.read] }\n  - { id: r, role: auditor, operations: [audit.export] }\n",
    4,
    11,
    /rules\[1\]\.id: duplicate rule id \(first used on line 3\)/,
  ],
  ["bad rule id", "version: 1\nrules:\n  - { id: 'Bad Id', role: auditor, operations: [audit.read] }\n", 3, 11, /rules\[0\]\.id: must be 1-64 characters/],
  [
    "** inside a segment",
    "version: 1\nrules:\n  - id: r\n    role: workload\n    operations: [unwrap]\n    keys: [prod/**x]\n",
    6,
    12,
    /\*\* must be a whole segment/,
  ],
  ["uppercase key pattern", "version: 1\nrules:\n  - id: r\n    role: workload\n    operations: [unwrap]\n    keys: [Prod/*]\n", 6, 12, /key pattern/],
  ["empty key segment", "version: 1\nrules:\n  - id: r\n    role: workload\n    operations: [unwrap]\n    keys: ['prod//x']\n", 6, 12, /empty segment/],
  ["wildcard trust domain", `version: 1\ngroups:\n  g: ["spiffe://*/prod/x"]\n`, 3, 7, /trust domain/],
  ["not a spiffe pattern", `version: 1\ngroups:\n  g: ["https://acme.ml/prod/x"]\n`, 3, 7, /spiffe:/],
  ["too many identity segments", `version: 1\ngroups:\n  g:\n    - "${TD}/prod/x/y"\n`, 4, 7, /spiffe:/],
  [
    "unknown condition",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when: { weekday: mon }\n",
    6,
    13,
    /rules\[0\]\.when\.weekday: unknown key "weekday"/,
  ],
  [
    "hour out of range",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when:\n      hours: { from: 8, to: 25 }\n",
    7,
    29,
    /hours.to/,
  ],
  [
    "empty hour window",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when:\n      hours: { from: 8, to: 8 }\n",
    7,
    14,
    /must differ/,
  ],
  ["bad day", "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when: { days: [mon, funday] }\n", 6, 25, /a day is one of/],
  [
    "timestamp without a zone",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when: { notAfter: '2025-01-01T00:00:00' }\n",
    6,
    23,
    /time zone/,
  ],
  [
    "notBefore after notAfter",
    "version: 1\nrules:\n  - id: r\n    role: auditor\n    operations: [audit.read]\n    when:\n      notBefore: 2025-02-01T00:00:00Z\n      notAfter: 2025-01-01T00:00:00Z\n",
    7,
    7,
    /notBefore is after/,
  ],
  [
    "empty context values",
    "version: 1\nrules:\n  - id: r\n    role: workload\n    operations: [unwrap]\n    keys: ['**']\n    when: { context: { dataset: [] } }\n",
    7,
    33,
    /when\.context\.dataset: must not be empty/,
  ],
  ["bindings not a list", "version: 1\nbindings: { a: b }\n", 2, 11, /list/],
  ["bad environment name", "version: 1\nenvironments: [prod, 'a b']\n", 2, 22, /environment/],
];

describe("parsePolicy errors", () => {
  it.each(CASES)("%s", (_what, yaml, line, column, message) => {
    const e = errorOf(yaml);
    expect(e.message).toMatch(message);
    expect(e.line).toBe(line);
    if (column > 0) expect(e.column).toBe(column);
  });

  it("refuses non-text input", () => {
    expect(() => parsePolicy(undefined as unknown as string)).toThrow(PolicyError);
  });

  it("accepts a complete policy and keeps its text", () => {
    const text = `
version: 1
environments: [dev, staging, prod]
groups:
  trainers: ["${TD}/*/trainer"]
roles:
  reader: { base: workload, operations: [unwrap, key.show] }
bindings:
  - { group: trainers, role: reader }
rules:
  - id: read
    group: trainers
    operations: [unwrap]
    keys: ["*/datasets/**"]
    when:
      env: [prod, dev]
      context: { dataset: [raw, 42] }
      hours: { from: 22, to: 6 }
      days: [Mon, tue]
      notBefore: 2025-01-01T00:00:00+02:00
      notAfter: 2026-01-01T00:00:00.000Z
`;
    const p = parsePolicy(text);
    expect(p.text).toBe(text);
    expect(p.environments).toEqual(["dev", "staging", "prod"]);
    expect(p.roles.get("reader")).toMatchObject({ base: "workload", builtin: false });
    expect(p.rules[0]!.when).toEqual({
      env: ["prod", "dev"],
      context: expect.objectContaining({ dataset: ["raw", "42"] }),
      hours: { from: 22, to: 6 },
      days: ["mon", "tue"],
      notBefore: Date.parse("2024-12-31T22:00:00Z"),
      notAfter: Date.parse("2026-01-01T00:00:00Z"),
    });
    expect(p.rules[0]!.line).toBe(11);
    expect(Object.isFrozen(p) && Object.isFrozen(p.rules) && Object.isFrozen(p.rules[0])).toBe(true);
  });

  it("an empty policy (version only) is valid", () => {
    expect(parsePolicy("version: 1\n").rules).toEqual([]);
  });
});
