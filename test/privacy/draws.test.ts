import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type RandomSource, sampleDiscreteGaussian, sampleDiscreteLaplace } from "../../src/privacy/index.js";

/** A source that answers from a script and records every bound it was asked for. */
function scripted(answers: bigint[]): RandomSource & { asked: bigint[] } {
  const asked: bigint[] = [];
  let i = 0;
  return {
    asked,
    below(n: bigint): bigint {
      expect(typeof n).toBe("bigint"); // an integer bound: no float reaches the randomness
      asked.push(n);
      if (i >= answers.length) throw new Error(`script ran out at draw ${i} (below ${n})`);
      const a = answers[i++]!;
      if (a < 0n || a >= n) throw new Error(`scripted ${a} is not below ${n}`);
      return a;
    },
  };
}

describe("no floating point in sampling: exact draw sequences", () => {
  it("discrete Laplace, scale 1.5 = 3/2 (t = 3, s = 2), CKS20 Algorithm 2 step by step", () => {
    const rng = scripted([1n, 0n, 5n, 0n, 2n, 0n, 1n, 1n, 2n, 2n, 0n, 0n, 2n, 0n, 1n, 0n]);
    expect(sampleDiscreteLaplace(1.5, rng)).toBe(2n);
    expect(rng.asked).toEqual([
      3n, // U = 1
      3n,
      6n, // Bernoulli(e^{-1/3}): 0 < 1 (K=2), 5 ≥ 1: K even → reject U
      3n, // U = 0
      3n, // Bernoulli(e^0): 2 ≥ 0 at once, K = 1 → accept
      1n,
      2n, // V: Bernoulli(e^{-1}) fails (K = 2): V = 0
      2n, // sign: 1 = negative, with Y = 0 → restart
      3n, // U = 2
      3n, // Bernoulli(e^{-2/3}): 2 ≥ 2, K = 1 → accept
      1n,
      2n,
      3n, // Bernoulli(e^{-1}): K = 3 → true: V = 1
      1n,
      2n, // then false
      2n, // positive: X = 2 + 3·1 = 5, Y = floor(5/2) = 2
    ]);
  });

  it("discrete Gaussian, sigma 1 (t = 2), CKS20 Algorithm 3 step by step", () => {
    const rng = scripted([0n, 1n, 0n, 1n, 0n, 0n, 3n, 1n, 1n, 0n, 1n, 1n, 5n]);
    expect(sampleDiscreteGaussian(1, rng)).toBe(-1n);
    expect(rng.asked).toEqual([
      2n,
      2n,
      1n,
      2n,
      2n, // discrete Laplace(2): Y = 0
      8n,
      16n, // Bernoulli(exp(-(0 - 1/2)²/2)) = Bernoulli(exp(-1/8)): K = 2 → reject
      2n,
      2n,
      1n,
      2n,
      2n, // Y = -1
      8n, // Bernoulli(exp(-1/8)): 5 ≥ 1, K = 1 → accept
    ]);
  });

  it("a different scale asks for different exact bounds (0.1 is its exact dyadic value)", () => {
    const rng = scripted([0n, 1n, 0n, 1n, 0n]);
    expect(sampleDiscreteLaplace(0.1, rng)).toBe(0n);
    expect(rng.asked).toEqual([3602879701896397n, 3602879701896397n, 1n, 2n, 2n]); // t = the numerator of 0.1's exact value
  });
});

describe("randomness only from node:crypto", () => {
  it("no Math.random anywhere in src/", () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js|mjs|cjs)$/.test(name) && /Math\s*\.\s*random|Math\[\s*["']random/.test(readFileSync(p, "utf8")))
          offenders.push(path.relative(root, p));
      }
    };
    walk(root);
    expect(offenders).toEqual([]);
  });
});
