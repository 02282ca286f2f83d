import { describe, expect, test } from "vitest";
import { Redactor, createRedactStream, revealLine } from "../../src/redact/index.js";
import { isPipesealError } from "../../src/errors.js";
import { freshKeystore } from "../helpers/keystore.js";

describe("encrypt operator with a real keystore", async () => {
  const { ks } = await freshKeystore(["logs/pii", "other"]);

  test("round trip: [ENC:…] tokens open through the keystore, and every unwrap is audited", async () => {
    const r = new Redactor({ operators: { email: "encrypt", default: "redact" }, encrypt: { keyring: ks, keyName: "logs/pii" } });
    expect(r.isAsync).toBe(true);
    const line = '{"msg":"reset for bob@example.org from 8.8.8.8","who":"carol@example.net"}';
    const out = (await r.redactLineAsync(line))!;
    expect(out).not.toContain("bob@example.org");
    expect(out).not.toContain("carol@example.net");
    expect(out).toContain("[IP_ADDRESS]");
    const tokens = out.match(/\[ENC:[A-Za-z0-9_-]+\]/g)!;
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(JSON.parse(out)).toBeTruthy();

    const before = ks.listAudit().length;
    const revealed = await revealLine(ks, out, "app.log");
    expect(revealed).toBe('{"msg":"reset for bob@example.org from [IP_ADDRESS]","who":"carol@example.net"}');
    const records = ks.listAudit().slice(before);
    expect(records).toHaveLength(2);
    for (const rec of records) {
      expect(rec).toMatchObject({ principal: "tester", keyName: "logs/pii", keyVersion: 1, operation: "decrypt", outcome: "ok", objectPath: "app.log" });
      expect(JSON.parse(rec.context!)).toEqual({ detector: "email", purpose: "redact" });
    }
    expect(ks.verifyAudit().ok).toBe(true);
  });

  test("the same value encrypts differently each time (randomized), and values are bound to their context", async () => {
    const r = new Redactor({ operators: { default: "encrypt" }, encrypt: { keyring: ks, keyName: "logs/pii", context: { tenant: "acme" } } });
    const a = (await r.redactLineAsync("bob@example.org"))!;
    const b = (await r.redactLineAsync("bob@example.org"))!;
    expect(a).not.toBe(b);
    expect(await revealLine(ks, a)).toBe("bob@example.org");
  });

  test("a tampered token does not open, and the failure is typed", async () => {
    const r = new Redactor({ operators: { default: "encrypt" }, encrypt: { keyring: ks, keyName: "logs/pii" } });
    const out = (await r.redactLineAsync("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"))!;
    const raw = Buffer.from(out.slice(5, -1), "base64url");
    raw[raw.length - 3]! ^= 1;
    const bad = `[ENC:${raw.toString("base64url")}]`;
    const err = await revealLine(ks, bad).catch((e: unknown) => e);
    expect(isPipesealError(err)).toBe(true);
  });

  test("the sync path refuses encrypt; the stream handles it", async () => {
    const r = new Redactor({ operators: { default: "encrypt" }, encrypt: { keyring: ks, keyName: "logs/pii" } });
    expect(() => r.redactLine("bob@example.org")).toThrow(/asynchronous/);
    const s = createRedactStream({ operators: { default: "encrypt" }, encrypt: { keyring: ks, keyName: "logs/pii" } });
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    const done = new Promise((res) => s.on("end", res));
    s.end("a bob@example.org\nb 8.8.8.8\n");
    await done;
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^a \[ENC:[A-Za-z0-9_-]+\]\nb \[ENC:[A-Za-z0-9_-]+\]\n$/);
    const lines = await Promise.all(
      text
        .trim()
        .split("\n")
        .map((l) => revealLine(ks, l)),
    );
    expect(lines).toEqual(["a bob@example.org", "b 8.8.8.8"]);
  });
});
