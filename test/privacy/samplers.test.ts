import { describe, expect, it } from "vitest";
import { exactRational, sampleDiscreteGaussian, sampleDiscreteLaplace, seededRandomSource } from "../../src/privacy/index.js";
import { chiSquare, chiSquareCritical, equalMassBins, gaussianCdf, integerBins, laplaceCdf } from "./stats.js";

const N = 20_000;
const SCALES = [0.5, 1, 3.7, 100, 1e6];

function draw(n: number, f: () => bigint): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = Number(f());
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: readonly number[]) => {
  const m = mean(xs);
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
};

describe("exact rationals from numbers", () => {
  it("converts a double to its exact dyadic value, never rounding", () => {
    expect(exactRational(0.1)).toEqual({ num: 3602879701896397n, den: 36028797018963968n });
    expect(exactRational(1e6)).toEqual({ num: 1000000n, den: 1n });
    expect(exactRational(0.5)).toEqual({ num: 1n, den: 2n });
    expect(exactRational(5e-324)).toEqual({ num: 1n, den: 2n ** 1074n });
    expect(() => exactRational(Number.NaN)).toThrow(RangeError);
  });
  it("refuses scales that are not finite and positive", () => {
    for (const bad of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => sampleDiscreteLaplace(bad)).toThrow(RangeError);
      expect(() => sampleDiscreteGaussian(bad)).toThrow(RangeError);
    }
  });
});

describe("discrete Laplace against its exact PMF (seeded)", () => {
  for (const b of SCALES) {
    it(`scale ${b}: chi-square fit, mean 0, variance 2r/(1-r)^2, tails`, () => {
      const rng = seededRandomSource(`laplace-${b}`);
      const xs = draw(N, () => sampleDiscreteLaplace(b, rng));
      const cdf = (x: number) => laplaceCdf(b, x);
      const edges = b < 10 ? integerBins(cdf, N) : equalMassBins(cdf, 20, 60 * b + 10);
      const { stat, df } = chiSquare(xs, cdf, edges);
      expect(df).toBeGreaterThanOrEqual(b < 1 ? 6 : 10);
      expect(stat).toBeLessThan(chiSquareCritical(df));
      const r = Math.exp(-1 / b);
      const v = (2 * r) / (1 - r) ** 2;
      expect(Math.abs(mean(xs))).toBeLessThan(5 * Math.sqrt(v / N));
      expect(Math.abs(variance(xs) / v - 1)).toBeLessThan(0.08);
      // P(|X| > 3b): 2 r^(m+1)/(1+r) with m = floor(3b)
      const m = Math.floor(3 * b);
      const tail = (2 * r ** (m + 1)) / (1 + r);
      const seen = xs.filter((x) => Math.abs(x) > m).length / N;
      expect(Math.abs(seen - tail)).toBeLessThan(5 * Math.sqrt((tail * (1 - tail)) / N));
    });
  }
});

describe("discrete Gaussian against its exact PMF (seeded)", () => {
  for (const sigma of SCALES) {
    it(`sigma ${sigma}: chi-square fit, mean 0, variance, tails`, () => {
      const rng = seededRandomSource(`gaussian-${sigma}`);
      const xs = draw(N, () => sampleDiscreteGaussian(sigma, rng));
      const cdf = (x: number) => gaussianCdf(sigma, x);
      const edges = sigma < 10 ? integerBins(cdf, N) : equalMassBins(cdf, 20, 12 * sigma + 10);
      const { stat, df } = chiSquare(xs, cdf, edges);
      expect(df).toBeGreaterThanOrEqual(sigma < 1 ? 3 : 6);
      expect(stat).toBeLessThan(chiSquareCritical(df));
      // the exact variance (for small σ it is below σ²)
      let z = 0;
      let s2 = 0;
      const top = Math.ceil(40 * sigma + 40);
      if (sigma <= 50)
        for (let k = -top; k <= top; k++) {
          const w = Math.exp(-(k * k) / (2 * sigma * sigma));
          z += w;
          s2 += k * k * w;
        }
      const v = sigma <= 50 ? s2 / z : sigma * sigma;
      expect(Math.abs(mean(xs))).toBeLessThan(5 * Math.sqrt(v / N));
      expect(Math.abs(variance(xs) / v - 1)).toBeLessThan(0.08);
      const m = Math.floor(2 * sigma);
      const tail = 2 * (1 - cdf(m));
      const seen = xs.filter((x) => Math.abs(x) > m).length / N;
      expect(Math.abs(seen - tail)).toBeLessThan(5 * Math.sqrt((tail * (1 - tail)) / N) + 1e-4);
    });
  }
});

describe("95% half-widths from the noise distribution", () => {
  it("are the least m with P(|Z| <= m) >= 0.95, and stay finite for extreme scales", async () => {
    const { laplaceNoise, gaussianNoise, exactRational: ex } = await import("../../src/privacy/index.js");
    for (const b of [0.5, 2, 3.7, 100, 12345.5]) {
      const m = laplaceNoise(1n, ex(1 / b)).halfWidth();
      const inside = (k: number) => laplaceCdf(b, k) - laplaceCdf(b, -k - 1);
      expect(inside(m)).toBeGreaterThanOrEqual(0.95);
      if (m > 0) expect(inside(m - 1)).toBeLessThan(0.95);
    }
    // a sum's scale in grid units (bounds 0:500 at ε 1: b = 500·2^23): m is still the least, to the unit
    const bGrid = 500 * 2 ** 23;
    const mGrid = laplaceNoise(BigInt(bGrid), { num: 1n, den: 1n }).halfWidth();
    const insideGrid = (k: number) => laplaceCdf(bGrid, k) - laplaceCdf(bGrid, -k - 1);
    expect(insideGrid(mGrid)).toBeGreaterThanOrEqual(0.95);
    expect(insideGrid(mGrid - 1)).toBeLessThan(0.95);
    expect(laplaceNoise(2n, { num: 1n, den: 1n }).halfWidth()).toBe(6); // scale 2
    for (const sigma2 of [0.5, 1, 10, 2000]) {
      const noise = gaussianNoise(1n, { num: 1n, den: BigInt(2 * sigma2) }); // σ² = 1/(2ρ), ρ = 1/(2σ²)
      const s = Math.sqrt(sigma2);
      const inside = (k: number) => gaussianCdf(s, k) - gaussianCdf(s, -k - 1);
      expect(inside(noise.halfWidth())).toBeGreaterThanOrEqual(0.95 - 1e-6);
    }
    const huge = laplaceNoise(1n, ex(1e-300)).halfWidth();
    expect(Number.isFinite(huge) && huge > 1e300).toBe(true);
  });
});
