import { describe, expect, test } from "vitest";
import { Redactor, detectAll } from "../../src/redact/index.js";

const MiB = 1 << 20;
const fill = (unit: string): string => unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);

/** Inputs shaped to make a backtracking regex go quadratic or worse on each detector family. */
const ADVERSARIAL: Array<[string, string]> = [
  ["letters", fill("a")],
  ["digits", fill("1")],
  ["digits and spaces", fill("1 ")],
  ["digit groups", fill("4111 1111 1111 11 ")],
  ["at signs", fill("a@")],
  ["dotted local parts", fill("a.")],
  ["domain labels", fill("a@b.")],
  ["plus digits", fill("+1 2")],
  ["dotted quads", fill("1.1.1.1.")],
  ["colons", fill("a:")],
  ["hex colons", fill("ff:")],
  ["jwt heads", fill("eyJ")],
  ["jwt parts", fill("eyJhbGciOi.")],
  ["pem begins", fill("-----BEGIN PRIVATE KEY-----")],
  ["url schemes", fill("a://b:")],
  ["assignments", fill("api_key=")],
  ["passwords", fill("password=;")],
  ["url escapes", fill("%41")],
  ["json escapes", fill("\\u0041")],
  ["base64", fill("QUJD")],
  ["base64 with padding", fill("QUJD=")],
  ["iban-ish", fill("DE89 ")],
  ["slack-ish", fill("xoxb-1")],
  ["dob labels", fill("dob: 1")],
];

describe("linear time on 1 MiB adversarial lines", () => {
  test.each(ADVERSARIAL)("%s", (_name, line) => {
    const t0 = performance.now();
    detectAll(line);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(3000);
  });

  test("a 1 MiB line through the Redactor", () => {
    const line = fill("user bob@example.org ip 8.8.8.8 ");
    const t0 = performance.now();
    const out = new Redactor().redactLine(line)!;
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(out).not.toContain("bob@example.org");
  });
});
