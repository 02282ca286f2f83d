/**
 * Exact Bernoulli trials from uniform integers, after Canonne, Kamath and Steinke, "The Discrete
 * Gaussian for Differential Privacy" (NeurIPS 2020), Algorithm 1. Every probability is a
 * rational num/den and every step an integer comparison: no floating point, so the outcome's
 * distribution is exactly the one stated.
 */
import type { RandomSource } from "./random.js";

/** true with probability num/den (0 ≤ num ≤ den). */
export function bernoulli(rng: RandomSource, num: bigint, den: bigint): boolean {
  return rng.below(den) < num;
}

/**
 * true with probability exp(-num/den), for num ≥ 0, den ≥ 1 (CKS20 Algorithm 1).
 * For γ = num/den ≤ 1: K ← 1; while Bernoulli(γ/K) K ← K+1; accept iff K is odd
 * (P = Σ_k (-γ)^k/k! = e^-γ). For γ > 1: floor(γ) trials of Bernoulli(e^-1) must all pass,
 * then one of Bernoulli(e^-(γ - floor γ)).
 */
export function bernoulliExp(rng: RandomSource, num: bigint, den: bigint): boolean {
  let n = num;
  while (n > den) {
    if (!bernoulliExpAtMostOne(rng, den, den)) return false;
    n -= den;
  }
  return bernoulliExpAtMostOne(rng, n, den);
}

function bernoulliExpAtMostOne(rng: RandomSource, num: bigint, den: bigint): boolean {
  let k = 1n;
  while (rng.below(den * k) < num) k++; // Bernoulli(γ/k) = Bernoulli(num / (den·k))
  return (k & 1n) === 1n;
}
