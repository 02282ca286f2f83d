import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { Redactor, allowListHash, allowPredicate, customDetector, detectAll, policyToOptions } from "../../src/redact/index.js";
import { isPipesealError } from "../../src/errors.js";

describe("custom detectors", () => {
  test("regex + context words + label", () => {
    const d = customDetector({ id: "employee-id", label: "EMPLOYEE_ID", pattern: "\\bEMP-\\d{6}\\b", context: ["employee", "staff"] });
    expect(d.find("employee EMP-123456 joined").map((f) => f.label)).toEqual(["EMPLOYEE_ID"]);
    expect(d.find("part EMP-123456 shipped")).toEqual([]);
  });

  test("validators: luhn, mod97, entropy", () => {
    const luhn = customDetector({ id: "loyalty", label: "LOYALTY", pattern: "\\b\\d{12}\\b", validator: "luhn" });
    expect(luhn.find("a 123456789015 b")).toHaveLength(1);
    expect(luhn.find("a 123456789016 b")).toHaveLength(0);
    const iban = customDetector({ id: "acct", label: "ACCT", pattern: "\\bGB\\d{2}[A-Z]{4}\\d{14}\\b", validator: "mod97" });
    expect(iban.find("GB82WEST12345698765432")).toHaveLength(1);
    expect(iban.find("GB83WEST12345698765432")).toHaveLength(0);
    const ent = customDetector({
      id: "int-token",
      label: "INT_TOKEN",
      kind: "secret",
      pattern: "\\bitk_[A-Za-z0-9]{24}\\b",
      validator: "entropy",
      minEntropy: 4,
    });
    expect(ent.find("itk_a8F3kQ9zL2mX7vB1nC5tR0yW")).toHaveLength(1);
    expect(ent.find("itk_aaaaaaaaaaaaaaaaaaaaaaaa")).toHaveLength(0);
  });

  test("catastrophic patterns, back-references and bad flags are refused", () => {
    for (const pattern of ["(a+)+$", "(\\w*x)*", "(?:a|b{2,})+", "(a)\\1"]) {
      try {
        customDetector({ id: "bad", label: "BAD", pattern });
        expect.unreachable(pattern);
      } catch (e) {
        expect(isPipesealError(e) && e.code).toBe("INVALID_ARGUMENT");
      }
    }
    expect(() => customDetector({ id: "x", label: "X", pattern: "a", flags: "g" })).toThrow(/flags/);
    expect(() => customDetector({ id: "x", label: "X", pattern: "a", validator: "crc" as never })).toThrow(/validator/);
  });

  test("custom detectors run beside the built-ins in a Redactor", () => {
    const r = new Redactor({ customDetectors: [{ id: "employee-id", label: "EMPLOYEE_ID", pattern: "\\bEMP-\\d{6}\\b" }] });
    expect(r.redactLine("EMP-123456 mailed bob@example.org")).toBe("[EMPLOYEE_ID] mailed [EMAIL]");
  });
});

describe("allow-lists", () => {
  test("exact values by keyed hash; the list never holds the value", () => {
    const key = randomBytes(32);
    const list = { key, hashes: [allowListHash(key, "ci-bot@example.org")] };
    const allow = allowPredicate(list);
    const text = "from ci-bot@example.org to bob@example.org";
    expect(detectAll(text, undefined, { allow }).map((f) => text.slice(f.start, f.end))).toEqual(["bob@example.org"]);
    expect(JSON.stringify(list.hashes)).not.toContain("ci-bot");
  });

  test("patterns, optionally limited to detectors", () => {
    const r = new Redactor({ allow: { patterns: [/@example\.org$/], detectors: ["email"] } });
    expect(r.redactLine("a@example.org b@corp.example.net")).toBe("a@example.org [EMAIL]");
  });

  test("from a policy", () => {
    const { options } = policyToOptions({ allow: { patterns: ["^10\\."] }, disable: ["phone"], operators: { default: "mask" } });
    const r = new Redactor(options);
    expect(r.redactLine("ip 10.1.2.3 and 8.8.8.8 tel: 415-555-0132")).toBe("ip 10.1.2.3 and ******* tel: 415-555-0132");
  });

  test("policy rejects unknown fields and unsafe allow patterns", () => {
    expect(() => policyToOptions({ colour: "red" } as never)).toThrow(/^redaction policy: colour: unknown key "colour"/);
    expect(() => policyToOptions({ allow: { patterns: ["(a+)+"] } })).toThrow(/backtrack/);
  });
});
