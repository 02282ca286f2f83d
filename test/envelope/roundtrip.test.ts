import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SEGMENT_OVERHEAD } from "../../src/crypto/floe.js";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { decryptFile, encryptFile } from "../../src/envelope/files.js";
import { decodeHeader } from "../../src/envelope/header.js";
import { openStream } from "../../src/envelope/open.js";
import { sealStream } from "../../src/envelope/seal.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { chunked, collect } from "../helpers/streams.js";

const { ks } = await freshKeystore();
const SEG = 256; // small segments so "many segments" stays fast

describe("round trips", () => {
  for (const size of [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 37 * SEG + 11]) {
    it(`buffer of ${size} bytes`, async () => {
      const pt = randomBytes(size);
      const sealed = await sealBuffer(ks, pt, { keyName: "k", segmentSize: SEG, context: { stage: "test" } });
      const segments = Math.max(1, Math.ceil(size / SEG));
      expect(sealed.length).toBe(decodeHeader(sealed).length + segments * SEGMENT_OVERHEAD + size);
      expect((await openBuffer(ks, sealed)).equals(pt)).toBe(true);
    });
  }

  it("streams in odd chunk sizes both ways, byte by byte included", async () => {
    const pt = randomBytes(5 * SEG + 3);
    for (const inChunk of [1, 7, SEG, 1000]) {
      const sealed = await collect(sealStream(ks, chunked(pt, inChunk), { keyName: "k", segmentSize: SEG }));
      for (const outChunk of [1, 13, SEG + SEGMENT_OVERHEAD, 4096]) {
        expect((await collect(openStream(ks, chunked(sealed, outChunk)))).equals(pt)).toBe(true);
      }
    }
  });

  it("seals with the default segment size and batches spanning several MiB", async () => {
    const pt = randomBytes(3 * 1024 * 1024 + 12345);
    const sealed = await sealBuffer(ks, pt, { keyName: "k" });
    expect((await openBuffer(ks, sealed)).equals(pt)).toBe(true);
  });

  it("uses a fresh data key and IV for every file", async () => {
    const pt = Buffer.from("same plaintext");
    const a = await sealBuffer(ks, pt, { keyName: "k" });
    const b = await sealBuffer(ks, pt, { keyName: "k" });
    expect(a.equals(b)).toBe(false);
  });

  it("encrypts and decrypts files atomically, plaintext output mode 0600", async () => {
    const dir = tempDir();
    const src = path.join(dir, "data.csv");
    writeFileSync(src, randomBytes(200_000));
    await encryptFile(ks, src, `${src}.pseal`, { keyName: "k", context: { dataset: "customers" } });
    await decryptFile(ks, `${src}.pseal`, path.join(dir, "out.csv"));
    expect(readFileSync(path.join(dir, "out.csv")).equals(readFileSync(src))).toBe(true);
    const { statSync } = await import("node:fs");
    expect(statSync(path.join(dir, "out.csv")).mode & 0o777).toBe(0o600);
  });

  it("wraps under several keys; each one alone opens the file", async () => {
    const multi = await freshKeystore(["a", "b"]);
    const pt = randomBytes(1000);
    const sealed = await sealBuffer(multi.ks, pt, { keyName: ["a", "b"] });
    multi.ks.rotateKey("a");
    multi.ks.disableVersion("a", 1);
    expect((await openBuffer(multi.ks, sealed)).equals(pt)).toBe(true);
  });
});

describe("Node stream transforms", () => {
  it("pipeline(read, sealTransform, openTransform) gives back the input", async () => {
    const { pipeline } = await import("node:stream/promises");
    const { Readable, Writable } = await import("node:stream");
    const { sealTransform, openTransform } = await import("../../src/envelope/duplex-streams.js");
    const pt = randomBytes(700_000);
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunked(pt, 65_000)),
      sealTransform(ks, { keyName: "k" }),
      openTransform(ks),
      new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }),
    );
    expect(Buffer.concat(out).equals(pt)).toBe(true);
  });
});
