import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

const dir = tempDir("pipeseal-cli-");
const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
const run = (args: string[], input?: Buffer | string) => cli(args, env, input);
const file = (name: string) => path.join(dir, name);
const data = randomBytes(300_000);
writeFileSync(file("data.bin"), data);

/** A user mistake: non-zero, one line on stderr with the code, no stack trace. */
function expectCleanFailure(r: ReturnType<typeof run>, code: string, exit: number): void {
  expect(r.status).toBe(exit);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("the pipeseal CLI", () => {
  it("initialises a keystore with a 0600 master key and creates a key", () => {
    expect(run(["init"]).status).toBe(0);
    expect(statSync(path.join(env.PIPESEAL_HOME, "master.key")).mode & 0o777).toBe(0o600);
    expect(run(["key", "create", "datasets/raw", "--rotate-every", "90d"]).status).toBe(0);
    expectCleanFailure(run(["init"]), "KEYSTORE_EXISTS", 4);
    expectCleanFailure(run(["key", "create", "datasets/raw"]), "KEY_EXISTS", 4);
  });

  it("encrypts to <input>.pseal, inspects without a key, decrypts atomically, and prints nothing on stderr when not a terminal", () => {
    const enc = run(["encrypt", "--key", "datasets/raw", "--context", "stage=landing,dataset=customers", file("data.bin")]);
    expect(enc.status).toBe(0);
    expect(enc.stderr).toBe("");
    const info = JSON.parse(run(["inspect", "--json", file("data.bin.pseal")]).stdout.toString());
    expect(info).toMatchObject({
      context: { stage: "landing", dataset: "customers" },
      keys: [{ keyName: "datasets/raw", keyVersion: 1 }],
      plaintextLength: data.length,
    });
    expect(run(["decrypt", file("data.bin.pseal"), "-o", file("out.bin")]).status).toBe(0);
    expect(readFileSync(file("out.bin")).equals(data)).toBe(true);
    expectCleanFailure(run(["decrypt", file("data.bin.pseal"), "-o", file("out.bin")]), "INVALID_ARGUMENT", 2);
    expect(run(["decrypt", file("data.bin.pseal"), "-o", file("out.bin"), "--force"]).status).toBe(0);
  });

  it("reads a byte range to stdout", () => {
    const r = run(["decrypt", file("data.bin.pseal"), "--range", "100000:65536", "-o", "-"]);
    expect(r.status).toBe(0);
    expect(r.stdout.equals(data.subarray(100000, 165536))).toBe(true);
    expectCleanFailure(run(["decrypt", file("data.bin.pseal"), "--range", "299999:2", "-o", "-"]), "RANGE_OUT_OF_BOUNDS", 2);
    expectCleanFailure(run(["decrypt", file("data.bin.pseal"), "--range", "x", "-o", "-"]), "INVALID_ARGUMENT", 2);
  });

  it("seals stdin to stdout and back", () => {
    const sealed = run(["encrypt", "--key", "datasets/raw", "-"], data);
    expect(sealed.status).toBe(0);
    const opened = run(["decrypt", "-"], sealed.stdout);
    expect(opened.status).toBe(0);
    expect(opened.stdout.equals(data)).toBe(true);
  });

  it("rotates, rewraps without touching the body, and keeps old files readable", () => {
    const before = readFileSync(file("data.bin.pseal"));
    const headerLen = JSON.parse(run(["inspect", "--json", file("data.bin.pseal")]).stdout.toString()).headerLength;
    expect(run(["key", "rotate", "datasets/raw"]).status).toBe(0);
    expect(run(["decrypt", file("data.bin.pseal"), "-o", "-"]).stdout.equals(data)).toBe(true);
    const rw = JSON.parse(run(["rewrap", "--json", file("data.bin.pseal")]).stdout.toString());
    expect(rw[0].changes).toEqual([{ keyName: "datasets/raw", from: 1, to: 2 }]);
    const after = readFileSync(file("data.bin.pseal"));
    expect(after.subarray(after.length - (before.length - headerLen)).equals(before.subarray(headerLen))).toBe(true);
    expect(JSON.parse(run(["inspect", "--json", file("data.bin.pseal")]).stdout.toString()).keys[0].keyVersion).toBe(2);
    const keys = JSON.parse(run(["key", "list", "--json"]).stdout.toString());
    expect(keys[0]).toMatchObject({ name: "datasets/raw", primaryVersion: 2, rotationDue: false });
  });

  it("enforces the minimum decryption version and crypto-shreds on destroy", () => {
    writeFileSync(file("old.bin"), "sealed under v2");
    expect(run(["encrypt", "--key", "datasets/raw", file("old.bin")]).status).toBe(0);
    expect(run(["key", "rotate", "datasets/raw"]).status).toBe(0);
    expect(run(["key", "set", "datasets/raw", "--min-decrypt-version", "3"]).status).toBe(0);
    expectCleanFailure(run(["decrypt", file("old.bin.pseal"), "-o", "-"]), "KEY_BELOW_MIN_VERSION", 4);
    expect(run(["key", "set", "datasets/raw", "--min-decrypt-version", "1"]).status).toBe(0);
    expect(run(["key", "disable", "datasets/raw", "--version", "2"]).status).toBe(0);
    expectCleanFailure(run(["decrypt", file("old.bin.pseal"), "-o", "-"]), "KEY_DISABLED", 4);
    expect(run(["key", "enable", "datasets/raw", "--version", "2"]).status).toBe(0);
    expect(run(["decrypt", file("old.bin.pseal"), "-o", "-"]).stdout.toString()).toBe("sealed under v2");
    const unasked = run(["key", "destroy", "datasets/raw", "--version", "2"]); // no terminal to ask: --yes is required
    expect(unasked.status).toBe(2);
    expect(unasked.stderr).toMatch(/no terminal to ask; add --yes .*nothing was destroyed.*\[INVALID_ARGUMENT\]/);
    expect(run(["decrypt", file("old.bin.pseal"), "-o", "-"]).stdout.toString()).toBe("sealed under v2");
    const destroyed = run(["key", "destroy", "datasets/raw", "--version", "2", "--yes"]);
    expect(destroyed.status).toBe(0);
    expect(destroyed.stdout.toString()).toBe("destroyed datasets/raw v2\n");
    const again = run(["key", "destroy", "datasets/raw", "--version", "2"]); // already destroyed: nothing to confirm
    expect(again.status).toBe(0);
    expect(again.stdout.toString()).toMatch(/already destroyed/);
    expectCleanFailure(run(["decrypt", file("old.bin.pseal"), "-o", "-"]), "KEY_DESTROYED", 4);
  });

  it("audits every decrypt with principal, key, version and object, and verifies the chain", () => {
    const records = JSON.parse(run(["audit", "list", "--json", "--since", "1h"]).stdout.toString());
    const decrypts = records.filter((r: { operation: string }) => ["decrypt", "range-read"].includes(r.operation));
    expect(decrypts.length).toBeGreaterThanOrEqual(6);
    expect(decrypts[0]).toMatchObject({ principal: "alice", keyName: "datasets/raw", keyVersion: 1, outcome: "ok" });
    expect(decrypts.some((r: { outcome: string; errorCode: string }) => r.outcome !== "ok" && r.errorCode === "KEY_DESTROYED")).toBe(true);
    expect(run(["audit", "verify"]).status).toBe(0);
  });

  it("audit verify exits non-zero and names the record after tampering", () => {
    const db = new Database(path.join(env.PIPESEAL_HOME, "keystore.db"));
    db.prepare("UPDATE audit SET principal = 'mallory' WHERE seq = 3").run();
    db.close();
    const r = run(["audit", "verify", "--json"]);
    expect(r.status).toBe(5);
    expect(JSON.parse(r.stdout.toString()).problems[0]).toMatchObject({ seq: 3, kind: "modified" });
  });

  it("gives one-line typed errors for user mistakes", () => {
    expectCleanFailure(run(["decrypt", file("nope.pseal"), "-o", "-"]), "IO_ERROR", 1);
    expectCleanFailure(run(["decrypt", file("data.bin"), "-o", "-"]), "NOT_SEALED", 6);
    expectCleanFailure(run(["encrypt", "--key", "no/such", file("data.bin"), "-o", file("x.pseal")]), "KEY_NOT_FOUND", 4);
    expectCleanFailure(run(["encrypt", "--key", "datasets/raw", "--context", "oops", file("data.bin"), "-o", file("x.pseal")]), "INVALID_ARGUMENT", 2);
    expectCleanFailure(run(["key", "create", "x", "--rotate-every", "soon"]), "INVALID_ARGUMENT", 2);
    expect(run(["encrypt", "--key", "datasets/raw", file("data.bin"), "-o", file("fresh.pseal")]).status).toBe(0);
    const tampered = readFileSync(file("fresh.pseal"));
    tampered[tampered.length - 5]! ^= 1;
    writeFileSync(file("bad.pseal"), tampered);
    expectCleanFailure(run(["decrypt", file("bad.pseal"), "-o", file("bad.out")]), "DECRYPT_FAILED", 3);
    expect(existsSync(file("bad.out"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith(".pseal-tmp-"))).toEqual([]);
    expectCleanFailure(cli(["key", "list"], { PIPESEAL_HOME: file("empty") }), "KEYSTORE_NOT_INITIALIZED", 4);
  });

  it("has --help on every command", () => {
    for (const args of [[], ["init"], ["key"], ["key", "create"], ["encrypt"], ["decrypt"], ["inspect"], ["rewrap"], ["audit"], ["audit", "verify"]]) {
      const r = run([...args, "--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toContain("Usage: pipeseal");
    }
  });
});

describe("a passphrase keystore", () => {
  const home = path.join(dir, ".pp");
  const passFile = file("pass.txt");
  writeFileSync(passFile, "correct horse battery staple\n", { mode: 0o600 }); // 0644 would be refused, as for master.key

  it("initialises from PIPESEAL_PASSPHRASE_FILE and refuses a wrong passphrase", () => {
    expect(cli(["init", "--passphrase"], { PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE_FILE: passFile }).status).toBe(0);
    expect(existsSync(path.join(home, "master.key"))).toBe(false);
    expect(cli(["key", "create", "k"], { PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE_FILE: passFile }).status).toBe(0);
    writeFileSync(file("wrong.txt"), "wrong", { mode: 0o600 });
    expectCleanFailure(cli(["key", "list"], { PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE_FILE: file("wrong.txt") }), "MASTER_KEY_WRONG", 4);
  });

  it("ignores PIPESEAL_PASSPHRASE unless explicitly allowed", () => {
    expectCleanFailure(cli(["key", "list"], { PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE: "correct horse battery staple" }), "MASTER_KEY_UNAVAILABLE", 4);
    expect(cli(["key", "list"], { PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE: "correct horse battery staple", PIPESEAL_ALLOW_ENV_PASSPHRASE: "1" }).status).toBe(
      0,
    );
  });
});
