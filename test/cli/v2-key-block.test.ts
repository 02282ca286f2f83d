/**
 * Format v2 through the built CLI (issue 19 part 1): every key-block attack makes `decrypt`
 * (whole and --range) fail with one line and its code, and leaves no `ok` record in
 * `audit list`; a corrupted unused entry is KEY_BLOCK_INVALID at decrypt and at rewrap; a v1
 * file still decrypts and `rewrap --upgrade` turns it into v2 with the body byte for byte.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeHeader } from "../../src/envelope/header.js";
import { openKeystore } from "../../src/keys/index.js";
import { keyBlockAttacks } from "../helpers/key-block-attacks.js";
import { tempDir } from "../helpers/keystore.js";
import { sealV1 } from "../helpers/seal-v1.js";
import { spawn } from "node:child_process";
import { CLI, type CliResult } from "./run-cli.js";

/** The built CLI, asynchronously: a long run of processes must not block the test worker's event loop. */
function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d));
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}

interface Rec {
  seq: number;
  operation: string;
  outcome: string;
  errorCode: string | null;
  headerHash: string | null;
}

describe("sealed file v2 through the built CLI", async () => {
  const dir = tempDir("pipeseal-v2-cli-");
  const home = path.join(dir, ".pipeseal");
  const env = { PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[]) => cli(args, env);
  const f = (n: string) => path.join(dir, n);
  const audit = async (): Promise<Rec[]> => JSON.parse((await run(["audit", "list", "--json"])).stdout.toString());
  const last = async () => (await audit()).at(-1)?.seq ?? 0;
  const data = randomBytes(5000);

  it("setup: two files under the same two keys and context; new files are v2", async () => {
    expect((await run(["init"])).status).toBe(0);
    for (const k of ["keys/a", "keys/b", "keys/other"]) expect((await run(["key", "create", k])).status).toBe(0);
    writeFileSync(f("data.bin"), data);
    for (const out of ["victim.pseal", "other.pseal"]) {
      expect((await run(["encrypt", "--key", "keys/a", "--key", "keys/b", "--context", "dataset=customers", "-o", f(out), f("data.bin")])).status).toBe(0);
    }
    expect((await run(["key", "rotate", "keys/a"])).status).toBe(0); // keys/a v2 exists, to point an entry at
    const info = JSON.parse((await run(["inspect", "--json", f("victim.pseal")])).stdout.toString());
    expect(info.formatVersion).toBe(2);
    const d = await run(["decrypt", f("victim.pseal"), "-o", "-"]);
    expect(d.status).toBe(0);
    expect(d.stdout.equals(data)).toBe(true);
  });

  it("every attack: decrypt and decrypt --range fail with one line and a code; no ok record", async () => {
    const attacks = keyBlockAttacks(readFileSync(f("victim.pseal")), readFileSync(f("other.pseal")), { keyName: "keys/other", keyVersion: 2 });
    expect(attacks.length).toBeGreaterThan(15);
    const before = await last();
    for (const [i, attack] of attacks.entries()) {
      writeFileSync(f("attacked.pseal"), attack.file);
      const ranged = i % 3 === 0 ? [["decrypt", f("attacked.pseal"), "--range", "100:50", "-o", "-"]] : []; // a third also through --range (each run is a process)
      for (const args of [["decrypt", f("attacked.pseal"), "-o", "-"], ...ranged]) {
        const r = await run(args);
        expect(r.status, attack.name).not.toBe(0);
        expect(r.stdout.length, attack.name).toBe(0);
        expect(r.stderr.trim().split("\n"), attack.name).toHaveLength(1);
        expect(r.stderr, attack.name).toMatch(/^pipeseal: .* \[[A-Z_]+\]\n$/);
        if (attack.code) {
          expect(r.stderr, attack.name).toContain(`[${attack.code}]`);
          expect(r.status, attack.name).toBe(3);
        }
      }
    }
    const records = (await audit()).filter((x) => x.seq > before);
    expect(records.length).toBeGreaterThan(0); // the attempts are on record…
    expect(records.filter((x) => x.outcome === "ok")).toEqual([]); // …and none of them as a release
  }, 120_000);

  it("a corrupted unused entry: rewrap refuses with KEY_BLOCK_INVALID and writes nothing", async () => {
    const attacks = keyBlockAttacks(readFileSync(f("victim.pseal")), readFileSync(f("other.pseal")), { keyName: "keys/other", keyVersion: 2 });
    const corrupt = attacks.find((a) => a.name === "the unused entry's wrapped bytes corrupted")!.file;
    writeFileSync(f("corrupt.pseal"), corrupt);
    const before = await last();
    const r = await run(["rewrap", f("corrupt.pseal")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("[KEY_BLOCK_INVALID]");
    expect(readFileSync(f("corrupt.pseal")).equals(corrupt)).toBe(true);
    expect((await audit()).filter((x) => x.seq > before).map((x) => [x.operation, x.outcome, x.errorCode])).toEqual([["rewrap", "error", "KEY_BLOCK_INVALID"]]);
  });

  it("a v1 file decrypts; inspect says v1; rewrap --upgrade makes it v2 with the FLOE header and body byte for byte", async () => {
    const ks = await openKeystore(home, { principal: "alice" });
    let v1: Buffer;
    try {
      v1 = await sealV1(ks, data, { keyNames: ["keys/a", "keys/b"], context: { dataset: "customers" }, segmentSize: 1024 });
    } finally {
      ks.close();
    }
    writeFileSync(f("old.pseal"), v1);
    expect((await run(["inspect", f("old.pseal")])).stdout.toString()).toContain("pipeseal v1");
    const d = await run(["decrypt", f("old.pseal"), "-o", "-"]);
    expect(d.status).toBe(0);
    expect(d.stdout.equals(data)).toBe(true);

    const r = await run(["rewrap", "--upgrade", f("old.pseal")]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("upgraded to format v2");
    const up = readFileSync(f("old.pseal"));
    const h0 = decodeHeader(v1);
    const h1 = decodeHeader(up);
    expect(h1.formatVersion).toBe(2);
    expect(h1.floeHeader.equals(h0.floeHeader)).toBe(true);
    expect(up.subarray(h1.length).equals(v1.subarray(h0.length))).toBe(true);
    const info = JSON.parse((await run(["inspect", "--json", f("old.pseal")])).stdout.toString());
    expect(info).toMatchObject({ formatVersion: 2, headerHash: h0.objectId.toString("hex") });
    const before = await last();
    const d2 = await run(["decrypt", f("old.pseal"), "-o", "-"]);
    expect(d2.status).toBe(0);
    expect(d2.stdout.equals(data)).toBe(true);
    expect((await audit()).filter((x) => x.seq > before).map((x) => [x.operation, x.outcome, x.headerHash])).toEqual([
      ["decrypt", "ok", h0.objectId.toString("hex")],
    ]);
  });
});
