import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeHeader } from "../../src/envelope/header.js";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { openKeystore } from "../../src/keys/index.js";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

/**
 * Issue 22 item 8: an "ok" data-access record means "the key was released for this
 * operation"; an operation that then fails gets a second record, outcome "error" with its
 * code; a request that cannot be served (a range outside the plaintext) unwraps nothing.
 */
interface Rec {
  seq: number;
  operation: string;
  outcome: string;
  errorCode: string | null;
  objectPath: string | null;
  headerHash: string | null;
  keyName: string | null;
  keyVersion: number | null;
}

describe("audit outcomes of decrypts that fail after the key is released (built CLI)", () => {
  const dir = tempDir("pipeseal-outcomes-");
  const env = { PIPESEAL_HOME: path.join(dir, ".pipeseal"), PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[], input?: Buffer | string) => cli(args, env, input);
  const f = (n: string) => path.join(dir, n);
  const audit = (): Rec[] => JSON.parse(run(["audit", "list", "--json"]).stdout.toString());
  const after = (seq: number) => audit().filter((r) => r.seq > seq && r.operation !== "audit.export");
  const last = () => audit().at(-1)?.seq ?? 0;
  const data = randomBytes(200_000);

  it("setup: a 4-segment sealed file", () => {
    expect(run(["init"]).status).toBe(0);
    expect(run(["key", "create", "datasets/raw"]).status).toBe(0);
    writeFileSync(f("data.bin"), data);
    expect(run(["encrypt", "--key", "datasets/raw", "--segment-size", "65536", f("data.bin")]).status).toBe(0);
  });

  it("a range outside the plaintext is refused before any unwrap: no record claims a range-read", () => {
    const before = last();
    const r = run(["decrypt", f("data.bin.pseal"), "--range", "199999:2", "-o", "-"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("[RANGE_OUT_OF_BOUNDS]");
    expect(after(before)).toEqual([]);
    // a range inside it: one record, "ok" = released, and the read completed (no second record)
    const ok = run(["decrypt", f("data.bin.pseal"), "--range", "70000:100", "-o", "-"]);
    expect(ok.stdout.equals(data.subarray(70000, 70100))).toBe(true);
    expect(after(before).map((x) => [x.operation, x.outcome])).toEqual([["range-read", "ok"]]);
  });

  it("a truncated file: the release is recorded, then the failed decrypt with DECRYPT_FAILED", () => {
    const sealed = readFileSync(f("data.bin.pseal"));
    writeFileSync(f("cut.pseal"), sealed.subarray(0, sealed.length - 70_000));
    const before = last();
    const r = run(["decrypt", f("cut.pseal"), "-o", f("cut.out")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("[DECRYPT_FAILED]");
    const recs = after(before);
    expect(recs.map((x) => [x.operation, x.outcome, x.errorCode])).toEqual([
      ["decrypt", "ok", null],
      ["decrypt", "error", "DECRYPT_FAILED"],
    ]);
    expect(recs[1]).toMatchObject({ objectPath: f("cut.pseal"), headerHash: recs[0]!.headerHash, keyName: "datasets/raw", keyVersion: 1 });
  });

  it("a range over an altered segment: opened (released), then the failed read with its code", () => {
    const sealed = Buffer.from(readFileSync(f("data.bin.pseal")));
    const header = decodeHeader(sealed);
    sealed[header.length + 100]! ^= 1; // inside segment 0; the final segment still authenticates
    writeFileSync(f("flipped.pseal"), sealed);
    const before = last();
    const r = run(["decrypt", f("flipped.pseal"), "--range", "0:10", "-o", "-"]);
    expect(r.status).toBe(3);
    expect(r.stdout.length).toBe(0);
    expect(after(before).map((x) => [x.operation, x.outcome, x.errorCode])).toEqual([
      ["range-read", "ok", null],
      ["range-read", "error", "DECRYPT_FAILED"],
    ]);
  });

  it("a key block moved from another file never ends on an ok record for that file", () => {
    writeFileSync(f("other.bin"), "another file under the same key and context");
    expect(run(["encrypt", "--key", "datasets/raw", f("other.bin")]).status).toBe(0);
    const target = readFileSync(f("data.bin.pseal"));
    const donor = readFileSync(f("other.bin.pseal"));
    const t = decodeHeader(target);
    const d = decodeHeader(donor);
    const donorBlock = donor.subarray(d.fixedPart.length, d.length - d.floeHeader.length);
    const forged = Buffer.concat([target.subarray(0, t.fixedPart.length), donorBlock, target.subarray(t.length - t.floeHeader.length)]);
    writeFileSync(f("transplant.pseal"), forged);
    const before = last();
    const r = run(["decrypt", f("transplant.pseal"), "-o", f("transplant.out")]);
    expect(r.status).not.toBe(0);
    const recs = after(before);
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.at(-1)!.outcome).not.toBe("ok");
    expect(recs.at(-1)!.errorCode).toBeTruthy();
  });

  it("openBuffer on a truncated buffer (library): ok, then error DECRYPT_FAILED", async () => {
    const ks = await openKeystore(env.PIPESEAL_HOME, { principal: "lib" });
    try {
      const sealed = await sealBuffer(ks, randomBytes(150_000), { keyName: "datasets/raw", segmentSize: 65536 });
      const seq = ks.listAudit().at(-1)!.seq;
      await expect(openBuffer(ks, sealed.subarray(0, sealed.length - 1000), { path: "mem:cut" })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      const recs = ks.listAudit().filter((r) => r.seq > seq);
      expect(recs.map((x) => [x.operation, x.outcome, x.errorCode, x.objectPath])).toEqual([
        ["decrypt", "ok", null, "mem:cut"],
        ["decrypt", "error", "DECRYPT_FAILED", "mem:cut"],
      ]);
      expect(ks.verifyAudit().ok).toBe(true);
    } finally {
      ks.close();
    }
  });
});
