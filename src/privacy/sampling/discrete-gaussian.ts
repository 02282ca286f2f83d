/**
 * The discrete Gaussian over the integers, P[X = x] ∝ exp(-x²/(2σ²)), sampled exactly after
 * Canonne, Kamath and Steinke (2020), Algorithm 3: a discrete Laplace proposal with scale
 * t = floor(σ)+1, accepted with probability exp(-(|Y| - σ²/t)² / (2σ²)).
 *
 * Security guarantees: σ is an exact rational (from a number: its exact dyadic value), σ² is
 * computed exactly, every acceptance test is an exact Bernoulli(exp(-p/q)) on bigints, and
 * randomness is uniform integers from the RandomSource (node:crypto by default). Not
 * constant-time.
 */
import { bernoulliExp } from "./bernoulli.js";
import { discreteLaplace } from "./discrete-laplace.js";
import { type Rational, isqrt, positiveRational } from "./rational.js";
import { type RandomSource, defaultRandomSource } from "./random.js";

/**
 * One sample of the discrete Gaussian with parameter sigma (> 0).
 * @example
 * const noise = sampleDiscreteGaussian(3.5);
 * @throws RangeError unless sigma is a finite number (or rational) > 0
 */
export function sampleDiscreteGaussian(sigma: number | bigint | Rational, rng: RandomSource = defaultRandomSource()): bigint {
  const s = positiveRational(sigma, "the discrete Gaussian sigma");
  return discreteGaussianSq(rng, s.num * s.num, s.den * s.den);
}

/**
 * One sample given σ² = p/q exactly (the mechanisms compute σ² = Δ²/(2ρ) as a rational, which
 * need not have a rational square root).
 * @throws RangeError unless p, q ≥ 1
 */
export function sampleDiscreteGaussianSq(sigmaSquared: Rational, rng: RandomSource = defaultRandomSource()): bigint {
  const r = positiveRational(sigmaSquared, "sigma squared");
  return discreteGaussianSq(rng, r.num, r.den);
}

function discreteGaussianSq(rng: RandomSource, p: bigint, q: bigint): bigint {
  const t = isqrt(p / q) + 1n; // floor(σ) + 1: floor(sqrt(x)) = isqrt(floor(x))
  const twoPQT2 = 2n * p * q * t * t;
  for (;;) {
    const y = discreteLaplace(rng, t, 1n);
    const a = (y < 0n ? -y : y) * q * t - p; // (|Y| - σ²/t)·q·t
    if (bernoulliExp(rng, a * a, twoPQT2)) return y; // exp(-(|Y| - σ²/t)²/(2σ²)) = exp(-a²/(2pqt²))
  }
}
