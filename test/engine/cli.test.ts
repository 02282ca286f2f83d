/**
 * The engine through the built CLI (bin.js, as users run it): `--version` names the engine;
 * PIPESEAL_ENGINE=reference and a missing addon fall back to node:crypto; stdin/stdout give
 * the same files as file paths, across engines, at every batch edge; a tampered or truncated
 * stream fails with DECRYPT_FAILED and no plaintext file.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStatus } from "../../src/engine/native.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";

const BIN = fileURLToPath(new URL("../../dist/cli/bin.js", import.meta.url));
const native = loadStatus().addon !== undefined;
const MiB = 1024 * 1024;
const SEG = 64 * 1024;

let env: Record<string, string>;
let dir: string;
beforeAll(async () => {
  const { home } = await freshKeystore(["k"]);
  // PIPESEAL_ENGINE passes through, so reference-suites.test.ts runs all of this on the reference engine
  env = {
    PATH: process.env.PATH ?? "",
    PIPESEAL_HOME: home,
    PIPESEAL_PRINCIPAL: "tester",
    ...(process.env.PIPESEAL_ENGINE ? { PIPESEAL_ENGINE: process.env.PIPESEAL_ENGINE } : {}),
  };
  dir = tempDir();
});

function run(args: string[], extra: Record<string, string> = {}, input?: Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, input, maxBuffer: 64 * MiB });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const REF = { PIPESEAL_ENGINE: "reference" };

describe("which engine runs", () => {
  it("--version names the engine in use and its OpenSSL", () => {
    const r = run(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(native ? /^0\.1\.0 \(crypto engine: native \(OpenSSL 3\.[^)]*\)\)\n$/ : /crypto engine: reference \(node:crypto/);
    expect(run(["--version"], REF).stdout.toString()).toMatch(/crypto engine: reference \(node:crypto, OpenSSL [\d.]+; PIPESEAL_ENGINE=reference\)/);
  });

  it("a machine where the addon is missing runs on the reference engine, says so in --version, and still seals and opens", () => {
    const gone = { PIPESEAL_ENGINE: "", PIPESEAL_ADDON: path.join(dir, "no-such-addon.node") };
    expect(run(["--version"], gone).stdout.toString()).toMatch(/reference \(node:crypto.*not built/);
    const plain = randomBytes(100_000);
    const sealed = run(["encrypt", "-k", "k", "-"], gone, plain);
    expect(sealed.status).toBe(0);
    expect(sealed.stderr).toBe(""); // the note goes to a terminal only: scripts and logs stay clean
    const opened = run(["decrypt", "-"], gone, sealed.stdout);
    expect(opened.status).toBe(0);
    expect(opened.stdout.equals(plain)).toBe(true);
  });

  it("an addon that does not load (a file that is not one) is the reference engine too, not a crash", () => {
    const bogus = path.join(dir, "bogus.node");
    writeFileSync(bogus, "not an ELF file");
    expect(run(["--version"], { PIPESEAL_ENGINE: "", PIPESEAL_ADDON: bogus }).stdout.toString()).toMatch(/reference \(node:crypto.*did not load/);
  });
});

describe("stdin and stdout are the same pipeline as file paths", () => {
  // empty, one byte, a segment, a segment and a byte, exactly one 4 MiB batch, a batch and a byte, several batches
  const sizes = [0, 1, SEG, SEG + 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 12345];
  for (const size of sizes) {
    it(`${size} bytes: stdin→stdout, file→file and across engines open to the same plaintext`, () => {
      const plain = randomBytes(size);
      const file = path.join(dir, `p-${size}.bin`);
      writeFileSync(file, plain);
      const viaPipe = run(["encrypt", "-k", "k", "-"], {}, plain);
      expect(viaPipe.status).toBe(0);
      expect(run(["encrypt", "-k", "k", file, "-o", `${file}.pseal`]).status).toBe(0);
      const viaFile = readFileSync(`${file}.pseal`);
      expect(viaFile.length).toBe(viaPipe.stdout.length); // same layout: header and segments
      for (const engine of [{}, REF]) {
        const a = run(["decrypt", "-"], engine, viaPipe.stdout);
        expect(a.status).toBe(0);
        expect(a.stdout.equals(plain)).toBe(true);
        const out = path.join(dir, `o-${size}-${engine === REF ? "ref" : "fast"}.bin`);
        expect(run(["decrypt", `${file}.pseal`, "-o", out], engine).status).toBe(0);
        expect(readFileSync(out).equals(plain)).toBe(true);
      }
      const sealedByRef = run(["encrypt", "-k", "k", "-"], REF, plain);
      expect(run(["decrypt", "-"], {}, sealedByRef.stdout).stdout.equals(plain)).toBe(true);
    });
  }

  it("stdin that arrives in small, slow pieces seals the same as a file", async () => {
    const plain = randomBytes(3 * SEG + 77);
    const child = spawn(process.execPath, [BIN, "encrypt", "-k", "k", "-"], { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    for (let off = 0; off < plain.length; off += 10_000) {
      child.stdin.write(plain.subarray(off, off + 10_000));
      await new Promise((r) => setTimeout(r, 5));
    }
    child.stdin.end();
    const status = await new Promise((r) => child.on("close", r));
    expect(status).toBe(0);
    expect(run(["decrypt", "-"], {}, Buffer.concat(out)).stdout.equals(plain)).toBe(true);
  });
});

describe("attacks on a sealed stream through the pipeline", () => {
  let plain: Buffer;
  let sealed: Buffer;
  beforeAll(() => {
    plain = randomBytes(5 * MiB + 99);
    sealed = run(["encrypt", "-k", "k", "-"], {}, plain).stdout;
  });

  it("a flipped byte in the second batch: DECRYPT_FAILED, exit 3, and no output file", () => {
    for (const engine of [{}, REF]) {
      const bad = Buffer.from(sealed);
      bad[bad.length - 1000]! ^= 1;
      const file = path.join(dir, "bad.pseal");
      writeFileSync(file, bad);
      const out = path.join(dir, "bad.out");
      const r = run(["decrypt", file, "-o", out], engine);
      expect(r.status).toBe(3);
      expect(r.stderr).toMatch(/\[DECRYPT_FAILED\]/);
      expect(existsSync(out)).toBe(false);
      const piped = run(["decrypt", "-"], engine, bad);
      expect(piped.status).toBe(3);
      expect(piped.stdout.length).toBeLessThan(plain.length); // at most the verified batches before the bad one
      expect(plain.subarray(0, piped.stdout.length).equals(piped.stdout)).toBe(true);
    }
  });

  it("truncated at a segment boundary, or extended, on stdin: DECRYPT_FAILED", () => {
    const headerEnd = sealed.length - (Math.ceil(plain.length / SEG) - 1) * (SEG + 32) - ((plain.length % SEG) + 32);
    const cut = sealed.subarray(0, headerEnd + 64 * (SEG + 32)); // exactly 64 whole segments: the final one is missing
    expect(run(["decrypt", "-"], {}, cut).status).toBe(3);
    expect(run(["decrypt", "-"], {}, Buffer.concat([sealed, Buffer.from("x")])).status).toBe(3);
    expect(run(["decrypt", "-"], {}, sealed.subarray(0, headerEnd)).status).toBe(3); // a header and no body
  });
});
