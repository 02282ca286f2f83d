/** Property tests: share/reconstruct and mask/unmask pairs over random parameters (PIPESEAL_DEEP=1 for more runs). */
import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { P, add, inv, mul } from "../../src/secagg/field.js";
import { combine, lagrangeAtZero, split } from "../../src/secagg/shamir.js";
import { addMask, prg, subMask } from "../../src/secagg/prg.js";
import { agree, generateX25519, publicOf } from "../../src/secagg/keys.js";
import { DEFAULT_QUANTIZATION, dequantizeSum, errorBound, quantize } from "../../src/secagg/quantize.js";
import { buildGraph } from "../../src/secagg/graph.js";
import { config } from "./harness.js";
import { prng } from "../helpers/prng.js";

const RUNS = process.env.PIPESEAL_DEEP === "1" ? 300 : 40;

function shuffle<T>(a: T[], r: () => number): T[] {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [b[i], b[j]] = [b[j]!, b[i]!];
  }
  return b;
}

describe("field GF(2^521 − 1)", () => {
  it("inverses and distributivity hold for random elements", () => {
    const r = prng(1);
    for (let i = 0; i < RUNS; i++) {
      const a = BigInt(`0x${randomBytes(65).toString("hex")}`) % P;
      const b = BigInt(Math.floor(r() * 2 ** 40) + 1);
      if (a !== 0n) expect(mul(a, inv(a))).toBe(1n);
      expect(mul(add(a, b), b)).toBe(add(mul(a, b), mul(b, b)));
    }
  });
});

describe("Shamir share/reconstruct", () => {
  it("any t of n shares reconstruct the secret; t − 1 shares do not", () => {
    const r = prng(2);
    for (let run = 0; run < RUNS; run++) {
      const n = 2 + Math.floor(r() * 30);
      const t = 1 + Math.floor(r() * n);
      const len = 1 + Math.floor(r() * 64);
      const secret = randomBytes(len);
      const xs = shuffle(
        Array.from({ length: 200 }, (_, i) => i + 1),
        r,
      ).slice(0, n);
      const shares = split(secret, xs, t);
      const subset = shuffle(shares, r).slice(0, t);
      expect(combine(subset, t, len).equals(secret)).toBe(true);
      // precomputed coefficients give the same answer
      expect(combine(subset, t, len, lagrangeAtZero(subset.map((s) => s.x))).equals(secret)).toBe(true);
      if (t >= 2 && len >= 8) {
        let wrong: Buffer | undefined;
        try {
          wrong = combine(subset.slice(0, t - 1), t - 1, len);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("SECAGG_PROTOCOL"); // a value too large for the secret size
        }
        if (wrong) expect(wrong.equals(secret)).toBe(false);
      }
    }
  });

  it("fewer than t shares is SECAGG_ABORTED; a repeated index or bad element is SECAGG_PROTOCOL", () => {
    const shares = split(randomBytes(32), [1, 2, 3, 4], 3);
    expect(() => combine(shares.slice(0, 2), 3, 32)).toThrow(expect.objectContaining({ code: "SECAGG_ABORTED" }));
    expect(() => combine([shares[0]!, shares[0]!, shares[1]!], 3, 32)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
    expect(() => combine([{ x: 1, y: Buffer.alloc(66, 0xff) }, shares[1]!, shares[2]!], 3, 32)).toThrow(expect.objectContaining({ code: "SECAGG_PROTOCOL" }));
    expect(() => split(randomBytes(65), [1, 2], 2)).toThrow(RangeError);
    expect(() => split(randomBytes(8), [1, 1], 2)).toThrow(RangeError);
  });

  it("a reconstructed X25519 key matches its public key", () => {
    for (let i = 0; i < 10; i++) {
      const kp = generateX25519();
      const shares = split(kp.privateKey, [3, 5, 9, 11, 20], 3);
      expect(publicOf(combine([shares[4]!, shares[0]!, shares[2]!], 3, 32)).equals(kp.publicKey)).toBe(true);
    }
  });
});

describe("masks", () => {
  it("pairwise masks from X25519 agreement cancel in the sum; adding then removing a mask is the identity", () => {
    const r = prng(3);
    for (let run = 0; run < RUNS / 4; run++) {
      const n = 2 + Math.floor(r() * 6);
      const dim = 1 + Math.floor(r() * 300);
      const salt = randomBytes(32);
      const keys = Array.from({ length: n }, generateX25519);
      const xs = Array.from({ length: n }, () => Uint32Array.from({ length: dim }, () => Math.floor(r() * 2 ** 32)));
      const sum = new Uint32Array(dim);
      const want = new Uint32Array(dim);
      for (let u = 0; u < n; u++) {
        const y = Uint32Array.from(xs[u]!);
        for (let v = 0; v < n; v++) {
          if (v === u) continue;
          const k = agree(keys[u]!.privateKey, keys[v]!.publicKey, salt, "pipeseal/secagg/v1 pairwise mask");
          if (u < v) addMask(y, k);
          else subMask(y, k);
        }
        for (let i = 0; i < dim; i++) {
          sum[i] = sum[i]! + y[i]!;
          want[i] = want[i]! + xs[u]![i]!;
        }
      }
      expect(Buffer.from(sum.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      const k = randomBytes(32);
      const y = Uint32Array.from(xs[0]!);
      addMask(y, k);
      expect(Buffer.from(y.buffer).equals(Buffer.from(xs[0]!.buffer))).toBe(dim === 0);
      subMask(y, k);
      expect(Buffer.from(y.buffer).equals(Buffer.from(xs[0]!.buffer))).toBe(true);
    }
  });

  it("the PRG is AES-256-CTR keystream (first block = AES-256 of the zero counter block, OpenSSL ECB as the reference)", () => {
    const key = Buffer.from("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", "hex");
    const e = createCipheriv("aes-256-ecb", key, null).update(Buffer.alloc(16));
    expect(Buffer.from(prg(key, 4).buffer, 0, 16).equals(e)).toBe(true);
  });
});

describe("quantization", () => {
  it("the dequantized sum is within n·c/(R − 1) of the sum of clipped inputs", () => {
    const r = prng(4);
    for (let run = 0; run < RUNS; run++) {
      const n = 1 + Math.floor(r() * 50);
      const dim = 1 + Math.floor(r() * 50);
      const xs = Array.from({ length: n }, () => Float64Array.from({ length: dim }, () => (r() - 0.5) * 20));
      const sum = new Uint32Array(dim);
      for (const x of xs) {
        const q = quantize(x, DEFAULT_QUANTIZATION);
        for (let i = 0; i < dim; i++) sum[i] = sum[i]! + q[i]!;
      }
      const got = dequantizeSum(sum, n, DEFAULT_QUANTIZATION);
      for (let i = 0; i < dim; i++) {
        const want = xs.reduce((s, x) => s + Math.max(-8, Math.min(8, x[i]!)), 0);
        expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(errorBound(DEFAULT_QUANTIZATION, n) + 1e-9);
      }
    }
  });
});

describe("SecAgg+ graph", () => {
  it("is symmetric, k-regular, and the same for the same roster digest", () => {
    const r = prng(5);
    for (let run = 0; run < RUNS / 4; run++) {
      const n = 6 + Math.floor(r() * 60);
      const k = 2 * (1 + Math.floor(r() * 2));
      const cfg = config("g", { graph: "plus", neighbours: k, threshold: k, minParties: 2, maxParties: 1000 });
      const digest = randomBytes(32);
      const g = buildGraph(cfg, n, digest);
      expect(buildGraph(cfg, n, digest)).toEqual(g);
      g.neighbours.forEach((nb, i) => {
        expect(nb).toHaveLength(k);
        for (const j of nb) expect(g.neighbours[j]).toContain(i);
      });
    }
  });
});
