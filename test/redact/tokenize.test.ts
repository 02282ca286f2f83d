import { describe, expect, test } from "vitest";
import { Redactor, createRedactStream, revealToken } from "../../src/redact/index.js";
import { openKeystore } from "../../src/keys/index.js";
import { freshKeystore } from "../helpers/keystore.js";

const shape = (s: string) => s.replace(/[0-9]/g, "9").replace(/[A-Za-z]/g, "a");

describe("tokenize operator with a real keystore", async () => {
  const { ks, home } = await freshKeystore(["logs/tokens", "other", "rot"]);
  const tok = (keyName = "logs/tokens", ops: Record<string, "tokenize" | "redact"> = { default: "tokenize" }) =>
    new Redactor({ operators: ops, tokenize: { keyring: ks, keyName, path: "app.log" } });

  const cases: Array<[string, string, string]> = [
    ["credit-card", "pay 4539 1488 0343 6467 now", "4539 1488 0343 6467"],
    ["phone", "call me: +49 30 1234567 thanks", "+49 30 1234567"],
    ["us-ssn", "ssn 123-45-6788", "123-45-6788"],
    ["email", "mail alice.smith@example.org", "alice.smith@example.org"],
    ["iban", "iban DE89 3704 0044 0532 0130 00 ok", "DE89 3704 0044 0532 0130 00"],
  ];

  for (const [detector, line, value] of cases) {
    test(`${detector}: same shape, deterministic, reversible`, async () => {
      const r = tok();
      const out = (await r.redactLineAsync(line))!;
      expect(r.findings(line).map((f) => f.detector)).toContain(detector);
      const start = line.indexOf(value);
      const token = out.slice(start, start + value.length);
      expect(out.slice(0, start)).toBe(line.slice(0, start));
      expect(out.slice(start + value.length)).toBe(line.slice(start + value.length));
      expect(token).not.toBe(value);
      if (detector === "email") {
        expect(token.endsWith("@example.org")).toBe(true);
        expect(token).toMatch(/^[A-Za-z0-9]+\.[A-Za-z0-9]+@example\.org$/);
        expect(token.length).toBe(value.length);
      } else {
        expect(shape(token)).toBe(shape(value)); // digits stay digits, separators and letters kept
      }
      if (detector === "credit-card") expect(token.endsWith("6467")).toBe(true);
      if (detector === "iban") expect(token.startsWith("DE")).toBe(true);
      expect((await tok().redactLineAsync(line))!).toBe(out); // same key, same token
      expect(r.stats.tokenize).toMatchObject({ tokenized: 1, maskedInstead: 0, keyVersion: 1 });
      expect(await revealToken(ks, { keyName: "logs/tokens", detector, token })).toBe(value);
    });
  }

  test("different keys and different detectors give different tokens", async () => {
    const line = "pay 4539 1488 0343 6467 now";
    const a = (await tok("logs/tokens").redactLineAsync(line))!;
    const b = (await tok("other").redactLineAsync(line))!;
    expect(a).not.toBe(b);
    const token = a.slice(4, 23);
    // the tweak and the key bind the detector: another detector id reveals something else
    expect(await revealToken(ks, { keyName: "logs/tokens", detector: "phone", token })).not.toBe("4539 1488 0343 6467");
    expect(await revealToken(ks, { keyName: "logs/tokens", detector: "card", token })).toBe("4539 1488 0343 6467"); // alias
  });

  test("key derivation and reveal are audited (once per handle and detector)", async () => {
    const { ks: ks2 } = await freshKeystore(["t"]);
    const before = ks2.listAudit().length;
    const r = new Redactor({ operators: { "credit-card": "tokenize" }, tokenize: { keyring: ks2, keyName: "t", path: "x.log" } });
    await r.redactTextAsync("4539 1488 0343 6467\n4539 1488 0343 6467\n4716 0000 0000 0008");
    const recs = ks2.listAudit().slice(before);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ principal: "tester", keyName: "t", keyVersion: 1, operation: "redact-tokenize", outcome: "ok", objectPath: "x.log" });
    expect(JSON.parse(recs[0]!.context!)).toEqual({ purpose: "redact-tokenize:credit-card" });
    const out = (await r.redactLineAsync("4539 1488 0343 6467"))!;
    await revealToken(ks2, { keyName: "t", detector: "credit-card", token: out });
    const rev = ks2.listAudit().slice(before + 1);
    expect(rev).toHaveLength(1);
    expect(rev[0]).toMatchObject({ keyName: "t", operation: "redact-reveal", outcome: "ok", keyVersion: 1 });
    expect(ks2.verifyAudit().ok).toBe(true);
  });

  test("values too short for FF1's 10^6 domain fall back to mask, and the stats say so", async () => {
    const r = tok();
    const out = (await r.redactLineAsync("mail bob@example.org"))!; // 3 alnum characters < 4 (62^4 ≥ 10^6)
    expect(out).toBe("mail " + "*".repeat(11) + ".org");
    expect(r.stats.tokenize).toMatchObject({ tokenized: 0, maskedInstead: 1, byDetectorMasked: { email: 1 } });
  });

  test("JSON lines: the field-aware path tokenizes string values and keeps the JSON valid", async () => {
    const r = tok("logs/tokens", { "credit-card": "tokenize", email: "tokenize", default: "redact" });
    const line = '{"msg":"login alice.smith@example.org from 8.8.8.8","card":"4539 1488 0343 6467","n":4539148803436467}';
    const out = (await r.redactLineAsync(line))!;
    const parsed = JSON.parse(out) as { msg: string; card: string; n: number };
    expect(parsed.n).toBe(4539148803436467); // numbers untouched (as with every operator)
    expect(parsed.msg).toMatch(/^login [A-Za-z0-9]{5}\.[A-Za-z0-9]{5}@example\.org from \[IP_ADDRESS\]$/);
    expect(shape(parsed.card)).toBe("9999 9999 9999 9999");
    expect(parsed.card.endsWith("6467")).toBe(true);
    expect(await revealToken(ks, { keyName: "logs/tokens", detector: "card", token: parsed.card })).toBe("4539 1488 0343 6467");
    expect(r.stats.jsonLines).toBe(1);
  });

  test("the sync path refuses tokenize; the stream handles it; a key is required", async () => {
    expect(() => tok().redactLine("4539 1488 0343 6467")).toThrow(/asynchronous/);
    expect(() => new Redactor({ operators: { default: "tokenize" } })).toThrow(/tokenize operator needs/);
    const s = createRedactStream({ operators: { default: "tokenize" }, tokenize: { keyring: ks, keyName: "logs/tokens" } });
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    const done = new Promise((res) => s.on("end", res));
    s.end("a 4539 1488 0343 6467\nb 4539 1488 0343 6467\n");
    await done;
    const [l1, l2] = Buffer.concat(chunks).toString().split("\n");
    expect(l1!.slice(2)).toBe(l2!.slice(2));
    expect(l1).toMatch(/^a \d{4} \d{4} \d{4} 6467$/);
  });

  test("after a rotation, new tokens use the new primary; old tokens need the old version", async () => {
    const line = "4539 1488 0343 6467";
    const v1 = (await tok("rot").redactLineAsync(line))!;
    ks.rotateKey("rot");
    const ks3 = await openKeystore(home, { principal: "tester" }); // fresh handle: no cached field keys
    try {
      const r = new Redactor({ operators: { default: "tokenize" }, tokenize: { keyring: ks3, keyName: "rot" } });
      const v2 = (await r.redactLineAsync(line))!;
      expect(r.stats.tokenize?.keyVersion).toBe(2);
      expect(v2).not.toBe(v1);
      expect(await revealToken(ks3, { keyName: "rot", detector: "credit-card", token: v2 })).toBe(line);
      expect(await revealToken(ks3, { keyName: "rot", detector: "credit-card", token: v1 })).not.toBe(line);
      expect(await revealToken(ks3, { keyName: "rot", version: 1, detector: "credit-card", token: v1 })).toBe(line);
    } finally {
      ks3.close();
    }
  });
});
