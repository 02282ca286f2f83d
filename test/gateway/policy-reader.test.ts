/** gateway.yaml through the strict reader: each mistake named at its line and column, no value echoed. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { parseGatewayPolicy } from "../../src/gateway/policy.js";
import { expectMessage, refusalOf } from "../helpers/reader-error.js";

const ID = "spiffe://acme.ml/prod/trainer";
const SECRET = "AKIAIOSFODNN7EXAMPLESECRET";

function refusal(text: string): string {
  return refusalOf(() => parseGatewayPolicy(text), UsageError);
}

describe("gateway.yaml reader", () => {
  it("reads one string or a list for identities, paths and context values", () => {
    const p = parseGatewayPolicy(`rules:\n  - identities: ${ID}\n    paths: train/**\n    context: { stage: [training, eval], team: ml }\n`);
    expect(p.rules[0].context).toEqual({ stage: ["training", "eval"], team: ["ml"] });
    expect(p.rules[0].paths[0].matches("train/a/b.jsonl")).toBe(true);
    expect(p.rules[0].line).toBe(2);
  });

  it.each([
    ["a top-level key it does not know", `rules: []\nrulez: []\n`, 'gateway.yaml:2:1: rulez: unknown key "rulez" (allowed: rules)'],
    ["no rules", `# nothing\n`, "gateway.yaml:1:1: must be a mapping"],
    ["rules that are not a list", `rules: {a: 1}\n`, "gateway.yaml:1:8: rules: must be a list"],
    ["a rule without paths", `rules:\n  - identities: [${ID}]\n`, "gateway.yaml:2:5: rules[0]: `paths` is required"],
    [
      "an empty identities list",
      `rules:\n  - identities: []\n    paths: [a]\n`,
      "gateway.yaml:2:17: rules[0].identities: must be a non-empty string or a non-empty list of them",
    ],
    [
      "a number among the paths",
      `rules:\n  - identities: [${ID}]\n    paths: [a, 7]\n`,
      "gateway.yaml:3:12: rules[0].paths: must be a non-empty string or a non-empty list of them",
    ],
    [
      "a context key with a space",
      `rules:\n  - identities: [${ID}]\n    paths: [a]\n    context: { "bad key": x }\n`,
      "gateway.yaml:4:16: rules[0].context.bad key: key \"bad key\" a context key is 1-64 letters, digits, '_', '.', ':' or '-'",
    ],
    [
      "a context value that is a mapping",
      `rules:\n  - identities: [${ID}]\n    paths: [a]\n    context:\n      stage: { a: 1 }\n`,
      "gateway.yaml:5:14: rules[0].context.stage: must be a non-empty string or a non-empty list of them",
    ],
    [
      "an identity that is not a SPIFFE ID",
      `rules:\n  - identities: [${ID}, trainer]\n    paths: [a]\n`,
      "gateway.yaml:2:49: rules[0].identities[1]: must be spiffe://<trust-domain>/<env>/<service> (env and service may contain *)",
    ],
    [
      "a path that climbs out of the root",
      `rules:\n  - identities: ${ID}\n    paths: ../a\n`,
      "gateway.yaml:3:12: rules[0].paths: must be a glob relative to the root, without . or .. segments",
    ],
  ])("refuses %s, at the node at fault", (_what, text, expected) => {
    expectMessage(refusal(text), expected);
  });

  it("never echoes a value from the file", () => {
    for (const text of [
      `rules:\n  - identities: [${SECRET}]\n    paths: [a]\n`,
      `rules:\n  - identities: [${ID}]\n    paths: [a]\n    context: { stage: { ${SECRET}: 1 } }\n`,
      `rules: ${SECRET}\n`,
      `rules:\n  - identities: [${ID}]\n    paths: ["${SECRET}/../../x"]\n`,
      `rules: [${SECRET}\n`,
    ]) {
      expect(refusal(text)).not.toContain("SECRET");
    }
  });
});
