/** Redaction policy files through the strict reader: each mistake at its line and column, no value echoed. */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { loadRedactPolicy } from "../../src/redact/policy.js";
import { tempDir } from "../helpers/keystore.js";
import { expectMessage, refusalOf } from "../helpers/reader-error.js";

const SECRET = "xoxb-0123456789-SECRETslack";

function policyFile(text: string): string {
  const file = path.join(tempDir(), "redact.json");
  writeFileSync(file, text);
  return file;
}

function refusal(text: string): string {
  const file = policyFile(text);
  return refusalOf(() => loadRedactPolicy(file), UsageError).replace(file, "redact.json");
}

describe("redaction policy reader", () => {
  it("reads a JSON policy (and the same policy as YAML)", () => {
    const json = '{\n  "minConfidence": 0.5,\n  "operators": { "default": "mask", "email": "hash" },\n  "disable": ["ip-address"]\n}\n';
    expect(loadRedactPolicy(policyFile(json)).options).toEqual({ minConfidence: 0.5, disable: ["ip-address"], operators: { default: "mask", email: "hash" } });
    const yaml = "minConfidence: 0.5\noperators: { default: mask, email: hash }\ndisable: [ip-address]\n";
    expect(loadRedactPolicy(policyFile(yaml)).options).toEqual(loadRedactPolicy(policyFile(json)).options);
  });

  it.each([
    [
      "an unknown field",
      '{\n  "minConfidence": 0.5,\n  "colour": "red"\n}\n',
      'redact.json:3:3: colour: unknown key "colour" (allowed: minConfidence, disable, encodings, json, operators, hashKeyFile, hashLength, encryptKey, tokenizeKey, detectors, allow)',
    ],
    ["an unknown operator", '{ "operators": { "email": "shred" } }', "redact.json:1:27: operators.email: must be one of redact, mask, hash, encrypt, tokenize"],
    ["a confidence above 1", '{ "minConfidence": 5 }', "redact.json:1:20: minConfidence: must be <= 1"],
    ["a detector without a pattern", '{ "detectors": [\n  { "id": "emp", "label": "EMP" }\n] }', "redact.json:2:3: detectors[0]: `pattern` is required"],
    [
      "a detector id in capitals",
      '{ "detectors": [{ "id": "Emp", "label": "EMP", "pattern": "x" }] }',
      "redact.json:1:25: detectors[0].id: must be lowercase letters, digits and dashes",
    ],
    [
      "a backtracking allow pattern",
      '{ "allow": {\n  "patterns": ["^ok$", "(a+)+"]\n} }',
      /^redact\.json:2:24: allow\.patterns\[1\]: has a quantified group holding a quantifier/,
    ],
    ["broken JSON", '{ "minConfidence": 0.5,, }', /^redact\.json:1:\d+: YAML: /],
  ])("refuses %s, at the node at fault", (_what, text, expected) => {
    expectMessage(refusal(text), expected);
  });

  it("never echoes a value from the file", () => {
    for (const text of [
      `{ "operators": { "email": "${SECRET}" } }`,
      `{ "minConfidence": "${SECRET}" }`,
      `{ "detectors": [{ "id": "${SECRET}", "label": "X", "pattern": "x" }] }`,
      `{ "encryptKey": ["${SECRET}"] }`,
      `{ "minConfidence": "${SECRET}`,
    ]) {
      expect(refusal(text)).not.toContain("SECRET");
    }
  });
});
