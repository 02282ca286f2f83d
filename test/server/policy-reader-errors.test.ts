/**
 * The key service's policy through the strict reader, attacked section by section: each mistake
 * is refused at its exact line and column, and no message repeats a value from the file.
 */
import { describe, expect, it } from "vitest";
import { parsePolicy, PolicyError } from "../../src/server/policy/index.js";

const SECRET = "sk_live_51HxSECRETvalue0123456789";
const ID = "spiffe://acme.ml/prod/trainer";

function refusal(text: string): PolicyError {
  try {
    parsePolicy(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return e as PolicyError;
  }
  throw new Error("the policy was accepted");
}

// [section, what, yaml, line, column, message]
const CASES: [string, string, string, number, number, RegExp][] = [
  ["groups", "a group that is a mapping", "version: 1\ngroups:\n  ml: { a: 1 }\n", 3, 7, /groups\.ml: /],
  ["groups", "a pattern that is not a SPIFFE ID", `version: 1\ngroups:\n  ml: [${ID}, trainer]\n`, 3, 39, /groups\.ml\[1\]: /],
  [
    "roles",
    "an unknown key",
    "version: 1\nroles:\n  r:\n    base: workload\n    operations: [unwrap]\n    colour: red\n",
    6,
    5,
    /roles\.r\.colour: unknown key "colour"/,
  ],
  ["roles", "a missing base", "version: 1\nroles:\n  r:\n    operations: [unwrap]\n", 4, 5, /roles\.r: `base` is required/],
  ["bindings", "an unknown role", `version: 1\nbindings:\n  - identity: ${ID}\n    role: wizard\n`, 4, 11, /bindings\[0\]\.role: unknown role/],
  ["bindings", "an unknown group", "version: 1\nbindings:\n  - group: ml\n    role: workload\n", 3, 12, /bindings\[0\]\.group: unknown group/],
  ["rules", "operations of the wrong type", "version: 1\nrules:\n  - id: a\n    role: workload\n    operations: 7\n", 5, 17, /rules\[0\]\.operations: /],
  ["rules", "a missing id", "version: 1\nrules:\n  - role: workload\n    operations: [unwrap]\n    keys: [a/*]\n", 3, 5, /rules\[0\]: `id` is required/],
  [
    "rules",
    "an unknown group",
    "version: 1\nrules:\n  - id: a\n    group: ml\n    operations: [unwrap]\n    keys: [a/*]\n",
    4,
    12,
    /rules\[0\]\.group: unknown group/,
  ],
  [
    "when",
    "hours out of range",
    "version: 1\nrules:\n  - id: a\n    role: workload\n    operations: [unwrap]\n    keys: [a/*]\n    when: { hours: { from: 25, to: 3 } }\n",
    7,
    28,
    /rules\[0\]\.when\.hours\.from: /,
  ],
  [
    "when",
    "an unknown condition",
    "version: 1\nrules:\n  - id: a\n    role: workload\n    operations: [unwrap]\n    keys: [a/*]\n    when: { moon: full }\n",
    7,
    13,
    /rules\[0\]\.when\.moon: unknown key "moon"/,
  ],
  [
    "delegates",
    "an operation that cannot be delegated",
    `version: 1\ndelegates:\n  - id: gw\n    delegate: [${ID}]\n    for: [${ID}]\n    operations: [key.create]\n`,
    6,
    17,
    /delegates\[0\]\.operations: /,
  ],
  ["delegates", "a missing delegate", `version: 1\ndelegates:\n  - id: gw\n    for: [${ID}]\n`, 3, 5, /delegates\[0\]: /],
];

describe("policy reader, attacked per section", () => {
  it.each(CASES)("%s: refuses %s at its line and column", (_section, _what, text, line, column, message) => {
    const e = refusal(text);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toMatch(new RegExp(`^policy:${line}:${column}: `));
    expect(e.message).toMatch(message);
  });

  it.each([
    ["a group pattern", `version: 1\ngroups:\n  ml: [${SECRET}]\n`],
    ["a role base", `version: 1\nroles:\n  r:\n    base: ${SECRET}\n    operations: [unwrap]\n`],
    ["a binding role", `version: 1\nbindings:\n  - identity: ${ID}\n    role: ${SECRET}\n`],
    ["a rule operation", `version: 1\nrules:\n  - id: a\n    role: workload\n    operations: [${SECRET}]\n    keys: [a/*]\n`],
    ["a key pattern", `version: 1\nrules:\n  - id: a\n    role: workload\n    operations: [unwrap]\n    keys: ["/${SECRET}//"]\n`],
    ["a condition time", `version: 1\nrules:\n  - id: a\n    role: workload\n    operations: [unwrap]\n    keys: [a/*]\n    when: { notBefore: ${SECRET} }\n`],
    ["a delegate", `version: 1\ndelegates:\n  - id: gw\n    delegate: [${SECRET}]\n    for: [${ID}]\n`],
    ["the version", `version: ${SECRET}\n`],
  ])("never repeats %s from the file", (_what, text) => {
    expect(refusal(text).message).not.toContain("SECRET");
  });
});
