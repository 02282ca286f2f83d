import { randomBytes } from "node:crypto";
import { truncateSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encryptFile } from "../../src/envelope/files.js";
import { openSealedFile } from "../../src/envelope/reader.js";
import { DecryptError } from "../../src/errors.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const { ks } = await freshKeystore();
const dir = tempDir();
const SEG = 1000;
const plaintext = randomBytes(25 * SEG + 123);
const src = path.join(dir, "data.bin");
writeFileSync(src, plaintext);
const sealedPath = `${src}.pseal`;
await encryptFile(ks, src, sealedPath, { keyName: "k", segmentSize: SEG });

describe("random-access reads", () => {
  it("reads any range, including segment edges, the first and the last byte", async () => {
    const r = await openSealedFile(ks, sealedPath);
    expect(r.plaintextLength).toBe(plaintext.length);
    const ranges: [number, number][] = [
      [0, 1],
      [0, SEG],
      [SEG - 1, 2],
      [SEG, SEG],
      [3 * SEG + 7, 5 * SEG],
      [plaintext.length - 1, 1],
      [0, plaintext.length],
      [500, 0],
    ];
    for (let i = 0; i < 200; i++) {
      const off = Math.floor(Math.random() * plaintext.length);
      ranges.push([off, Math.floor(Math.random() * (plaintext.length - off))]);
    }
    for (const [off, len] of ranges) expect((await r.read(off, len)).equals(plaintext.subarray(off, off + len))).toBe(true);
    await r.close();
  });

  it("streams a long range in pieces that add up to the range", async () => {
    const r = await openSealedFile(ks, sealedPath);
    const parts: Buffer[] = [];
    for await (const p of r.readStream(10, plaintext.length - 20)) parts.push(p);
    expect(Buffer.concat(parts).equals(plaintext.subarray(10, plaintext.length - 10))).toBe(true);
    await r.close();
  });

  it("refuses ranges outside the plaintext with a typed error", async () => {
    const r = await openSealedFile(ks, sealedPath);
    await expect(r.read(plaintext.length, 1)).rejects.toMatchObject({ code: "RANGE_OUT_OF_BOUNDS" });
    await expect(r.read(-1, 2)).rejects.toMatchObject({ code: "RANGE_OUT_OF_BOUNDS" });
    await r.close();
  });

  it("is audited as a range read naming the file", async () => {
    const r = await openSealedFile(ks, sealedPath);
    await r.close();
    const last = ks.listAudit({}).at(-1)!;
    expect(last).toMatchObject({ operation: "range-read", objectPath: sealedPath, outcome: "ok" });
  });

  it("a file truncated at a segment boundary fails to open (its proven length would be wrong)", async () => {
    const copy = path.join(dir, "trunc.pseal");
    const { copyFileSync, statSync } = await import("node:fs");
    copyFileSync(sealedPath, copy);
    truncateSync(copy, statSync(copy).size - 123 - 32); // drop the final segment exactly
    await expect(openSealedFile(ks, copy)).rejects.toBeInstanceOf(DecryptError);
  });

  it("a corrupted middle segment fails only the reads that touch it", async () => {
    const copy = path.join(dir, "corrupt.pseal");
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(sealedPath);
    const headerLen = bytes.length - (25 * (SEG + 32) + 123 + 32);
    bytes[headerLen + 5 * (SEG + 32) + 40]! ^= 0x80; // inside segment 5
    writeFileSync(copy, bytes);
    const r = await openSealedFile(ks, copy);
    expect((await r.read(0, SEG)).equals(plaintext.subarray(0, SEG))).toBe(true);
    await expect(r.read(5 * SEG + 10, 10)).rejects.toBeInstanceOf(DecryptError);
    await r.close();
  });
});
