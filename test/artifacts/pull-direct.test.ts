// The direct pull path (object-file.ts: positional reads, decrypt + hash + writev in one pass,
// on worker threads in the built package) must agree with the streaming reference path
// (openStream) byte for byte, and refuse exactly what it refuses.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, cpSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decryptObjectToFd, readHeaderFd } from "../../src/artifacts/registry/object-file.js";
import { openStream } from "../../src/envelope/open.js";
import { sealStream } from "../../src/envelope/seal.js";
import { unlock } from "../../src/envelope/unlock.js";
import { DecryptError } from "../../src/errors.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { chunked, collect } from "../helpers/streams.js";

const { ks } = await freshKeystore(["k"]);
const dir = tempDir();
let n = 0;

async function sealTo(pt: Buffer, segmentSize?: number): Promise<string> {
  const file = path.join(dir, `o${n++}.pseal`);
  writeFileSync(file, await collect(sealStream(ks, chunked(pt, 100_000), { keyName: "k", ...(segmentSize ? { segmentSize } : {}) })));
  return file;
}

/** The direct path into a fresh file: its bytes and reported digest. */
async function direct(file: string): Promise<{ out: Buffer; digest: string; bytes: number }> {
  const src = openSync(file, "r");
  const outPath = path.join(dir, `p${n++}.out`);
  const out = openSync(outPath, "wx", 0o600);
  try {
    const header = readHeaderFd(src);
    const state = await unlock(ks, header, { operation: "decrypt", path: file });
    const r = decryptObjectToFd(state, src, header.length, out);
    return { out: readFileSync(outPath), ...r };
  } finally {
    closeSync(src);
    closeSync(out);
  }
}

const reference = (file: string) => collect(openStream(ks, chunked(readFileSync(file), 65_537), { path: file }));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("direct pull path agrees with openStream", () => {
  const cases: Array<[string, number, number | undefined]> = [
    ["empty", 0, undefined],
    ["one byte", 1, undefined],
    ["exactly one segment", 65536, undefined],
    ["exactly four segments (final one full)", 4 * 65536, undefined],
    ["several reads (small segments)", 5 * 1024 * 1024 + 17, 4096],
    ["larger than one read", 9 * 1024 * 1024 + 5, undefined],
  ];
  for (const [name, size, seg] of cases) {
    it(`${name}: same bytes, digest of the plaintext`, async () => {
      const pt = randomBytes(size);
      const file = await sealTo(pt, seg);
      const d = await direct(file);
      expect(d.out.equals(pt)).toBe(true);
      expect(d.bytes).toBe(size);
      expect(d.digest).toBe(sha(pt));
      expect((await reference(file)).equals(pt)).toBe(true);
    });
  }

  const mutations: Array<[string, (b: Buffer, headerLen: number) => Buffer]> = [
    ["a flipped ciphertext byte", (b) => ((b[b.length - 40]! ^= 1), b)],
    ["a flipped byte in the first segment", (b, h) => ((b[h + 100]! ^= 1), b)],
    ["truncated at a segment boundary", (b, h) => b.subarray(0, h + 2 * (4096 + 32))],
    ["truncated inside a segment", (b) => b.subarray(0, b.length - 7)],
    ["a byte appended after the final segment", (b) => Buffer.concat([b, Buffer.of(0)])],
    ["a whole segment appended", (b, h) => Buffer.concat([b, b.subarray(h, h + 4096 + 32)])],
    ["no body", (_b, h) => _b.subarray(0, h)],
  ];
  for (const [name, mutate] of mutations) {
    it(`refuses ${name}, like openStream`, async () => {
      const file = await sealTo(randomBytes(5 * 4096 + 100), 4096);
      const fd = openSync(file, "r");
      const headerLen = readHeaderFd(fd).length;
      closeSync(fd);
      writeFileSync(file, mutate(readFileSync(file), headerLen));
      await expect(direct(file)).rejects.toBeInstanceOf(DecryptError);
      await expect(reference(file)).rejects.toBeInstanceOf(DecryptError);
    });
  }
});

// Worker threads run compiled code: this part uses the built package (npm run build first).
describe("pullModel on worker threads (built package) agrees with the streamed pull", async () => {
  const dist = path.resolve(import.meta.dirname, "../../dist");
  const A = (await import(path.join(dist, "artifacts/index.js"))) as typeof import("../../src/artifacts/index.js");
  const K = (await import(path.join(dist, "keys/index.js"))) as typeof import("../../src/keys/index.js");
  const home = path.join(tempDir(), "ks");
  await K.initKeystore(home);
  const dks = await K.openKeystore(home, { principal: "tester" });
  dks.createKey("models/prod");
  await A.createSigningKey(dks, home, "models/signing", "p256");
  const signer = await A.openSigner(dks, home, "models/signing");
  const trust = A.trustFromKeys({ churn: [signer.info.publicKeyPem] });
  const model = path.join(tempDir(), "model");
  const files: Record<string, Buffer> = {
    "a.bin": randomBytes(3 * 1024 * 1024 + 5),
    "b.bin": randomBytes(0),
    "nested/deep/c.bin": randomBytes(70_000),
    "d.json": Buffer.from("{}"),
  };
  for (const [f, b] of Object.entries(files)) {
    const p = path.join(model, f);
    await import("node:fs").then((fs) => fs.mkdirSync(path.dirname(p), { recursive: true }));
    writeFileSync(p, b);
  }
  const reg = new A.FolderRegistry(path.join(tempDir(), "reg"));
  await A.pushModel(dks, reg, model, { name: "churn", version: "1" }, { keyName: "models/prod", signer });
  const ref = { name: "churn", version: "1" };

  it("the built package has the worker (else this would test the streamed path twice)", async () => {
    const { PullWorkers } = await import(path.join(dist, "artifacts/registry/pull-pool.js"));
    expect(PullWorkers.available()).toBe(true);
  });

  it("same files, modes and audit trail on both paths", async () => {
    const outs: string[] = [];
    for (const threads of [true, false]) {
      const out = path.join(tempDir(), "out");
      const r = await A.pullModel(dks, reg, ref, out, { trust, threads });
      expect(r.bytes).toBe(Object.values(files).reduce((a, b) => a + b.length, 0));
      for (const [f, b] of Object.entries(files)) {
        expect(readFileSync(path.join(out, f)).equals(b)).toBe(true);
        expect(statSync(path.join(out, f)).mode & 0o777).toBe(0o600);
      }
      outs.push(out);
    }
    const decrypts = dks.listAudit().filter((r) => r.operation === "decrypt");
    expect(decrypts.length).toBeGreaterThanOrEqual(2 * Object.keys(files).length);
  });

  it("a tampered object fails on worker threads and leaves nothing behind", async () => {
    const copy = new A.FolderRegistry(path.join(tempDir(), "reg"));
    cpSync(reg.location, copy.location, { recursive: true });
    const obj = path.join(copy.location, "churn", "1", "objects");
    const big = readdirSync(obj)
      .map((f) => path.join(obj, f))
      .sort((x, y) => readFileSync(y).length - readFileSync(x).length)[0]!;
    const b = readFileSync(big);
    b[Math.floor(b.length / 2)]! ^= 1;
    writeFileSync(big, b);
    const parent = tempDir();
    const out = path.join(parent, "out");
    await expect(A.pullModel(dks, copy, ref, out, { trust, threads: true })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});
