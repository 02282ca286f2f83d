import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "../cli/run-cli.js";

const dir = tempDir("pipeseal-redact-cli-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "auditor" };
const run = (args: string[], input?: Buffer | string) => cli(args, env, input);
const file = (name: string) => path.join(dir, name);

const LOG = [
  '{"level":30,"msg":"login bob@example.org from 8.8.8.8","card":"4539 1488 0343 6467","n":4539148803436467}',
  "plain: token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 and DB_PASSWORD=hunter2Gr8!",
  "nothing to see",
  "",
].join("\n");

describe("pipeseal redact (built CLI)", () => {
  it("redacts stdin to stdout (kubectl logs … | pipeseal redact)", () => {
    const r = run(["redact"], LOG);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe(
      [
        '{"level":30,"msg":"login [EMAIL] from [IP_ADDRESS]","card":"[CREDIT_CARD]","n":4539148803436467}',
        "plain: token [GITHUB_TOKEN] and DB_PASSWORD=[SECRET]",
        "nothing to see",
        "",
      ].join("\n"),
    );
  });

  it("redacts a file to -o with a JSON policy and prints stats as JSON on stderr", () => {
    writeFileSync(file("app.log"), LOG);
    writeFileSync(file("hash.key"), randomBytes(32).toString("hex"));
    writeFileSync(file("policy.json"), JSON.stringify({ operators: { default: "mask", email: "hash" }, hashKeyFile: "hash.key", disable: ["ip-address"] }));
    const r = run(["redact", file("app.log"), "-o", file("app.redacted.log"), "--policy", file("policy.json"), "--json-stats"]);
    expect(r.status).toBe(0);
    const out = readFileSync(file("app.redacted.log"), "utf8");
    expect(out).toMatch(/"msg":"login \[EMAIL:[0-9a-f]{8}\] from 8\.8\.8\.8"/);
    expect(out).toContain('"card":"***************6467"');
    expect(JSON.parse(r.stderr)).toMatchObject({ lines: 3, redacted: 4, byDetector: { email: 1, "credit-card": 1, "github-token": 1, "generic-secret": 1 } });
    const again = run(["redact", file("app.log"), "-o", file("app.redacted.log")]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("[INVALID_ARGUMENT]");
  });

  it("--operator encrypt seals values under a keystore key; --reveal opens them, audited", () => {
    expect(run(["init"]).status).toBe(0);
    expect(run(["key", "create", "logs/pii"]).status).toBe(0);
    const enc = run(["redact", "--operator", "email=encrypt", "--encrypt-key", "logs/pii"], LOG);
    expect(enc.status).toBe(0);
    const sealed = enc.stdout.toString();
    expect(sealed).not.toContain("bob@example.org");
    expect(sealed).toMatch(/\[ENC:[A-Za-z0-9_-]+\]/);
    writeFileSync(file("sealed.log"), sealed);
    const rev = run(["redact", "--reveal", file("sealed.log")]);
    expect(rev.status).toBe(0);
    expect(rev.stdout.toString().split("\n")[0]).toBe(
      '{"level":30,"msg":"login bob@example.org from [IP_ADDRESS]","card":"[CREDIT_CARD]","n":4539148803436467}',
    );
    const audit = run(["audit", "list", "--json"]);
    expect(audit.stdout.toString()).toContain(path.resolve(file("sealed.log")));
  });

  it("--operator card=tokenize writes same-shape tokens; --reveal-token reverses one, audited; --key-version after a rotation", () => {
    expect(run(["key", "create", "logs/tok"]).status).toBe(0);
    const args = ["redact", "--operator", "card=tokenize", "--operator", "email=tokenize", "--tokenize-key", "logs/tok", "--json-stats"];
    const a = run(args, LOG);
    expect(a.status).toBe(0);
    expect(run(args, LOG).stdout.toString()).toBe(a.stdout.toString()); // deterministic
    const line = JSON.parse(a.stdout.toString().split("\n")[0]!) as { msg: string; card: string; n: number };
    expect(line.card).toMatch(/^\d{4} \d{4} \d{4} 6467$/);
    expect(line.card).not.toBe("4539 1488 0343 6467");
    expect(line.msg).toBe("login ***********.org from [IP_ADDRESS]"); // "bob" is too short for FF1: masked
    const stats = JSON.parse(a.stderr.toString().trim()) as { tokenize: unknown };
    expect(stats.tokenize).toMatchObject({ tokenized: 1, maskedInstead: 1, byDetectorMasked: { email: 1 }, keyVersion: 1 });

    const rev = run(["redact", "--reveal-token", line.card, "--detector", "card", "--tokenize-key", "logs/tok"]);
    expect(rev.status).toBe(0);
    expect(rev.stdout.toString()).toBe("4539 1488 0343 6467\n");
    const audit = JSON.stringify(JSON.parse(run(["audit", "list", "--json"]).stdout.toString()));
    expect(audit).toContain("redact-reveal");
    expect(audit).toContain("redact-tokenize");

    expect(run(["key", "rotate", "logs/tok"]).status).toBe(0);
    expect(run(["redact", "--reveal-token", line.card, "--detector", "card", "--tokenize-key", "logs/tok"]).stdout.toString()).not.toBe(
      "4539 1488 0343 6467\n",
    );
    const old = run(["redact", "--reveal-token", line.card, "--detector", "credit-card", "--tokenize-key", "logs/tok", "--key-version", "1"]);
    expect(old.stdout.toString()).toBe("4539 1488 0343 6467\n");
    const bad = run(["redact", "--reveal-token", line.card, "--tokenize-key", "logs/tok"]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--detector");
  });

  it("usage errors are one clean line", () => {
    const r = run(["redact", "--operator", "email=tokenize"], "x");
    expect(r.stderr).toContain("--tokenize-key");
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("[INVALID_ARGUMENT]");
    const e = run(["redact", "--operator", "email=encrypt"], "x");
    expect(e.stderr).toContain("--encrypt-key");
  });
});
