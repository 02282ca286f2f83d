/**
 * The discrete Laplace distribution over the integers, P[X = x] ∝ exp(-|x|/scale), sampled
 * exactly after Canonne, Kamath and Steinke (2020), Algorithm 2.
 *
 * Security guarantees: `scale` is converted to an exact rational (a JavaScript number is a
 * dyadic rational; nothing is rounded), all arithmetic is on bigints, and all randomness is
 * uniform integers from the RandomSource (node:crypto by default), so the output follows the
 * stated distribution exactly and carries no floating-point artefacts (Mironov 2012).
 * Not constant-time: the number of loop iterations depends on the draws.
 */
import { type Rational, positiveRational } from "./rational.js";
import { bernoulliExp } from "./bernoulli.js";
import { type RandomSource, defaultRandomSource } from "./random.js";

/**
 * One sample of the discrete Laplace distribution with the given scale (t/s as a rational).
 * @example
 * const noise = sampleDiscreteLaplace(2); // scale 2: P[x] ∝ e^{-|x|/2}
 * @throws RangeError unless scale is a finite number (or rational) > 0
 */
export function sampleDiscreteLaplace(scale: number | bigint | Rational, rng: RandomSource = defaultRandomSource()): bigint {
  const { num: t, den: s } = positiveRational(scale, "the discrete Laplace scale");
  return discreteLaplace(rng, t, s);
}

/** CKS20 Algorithm 2 for scale t/s (t, s ≥ 1 integers). */
export function discreteLaplace(rng: RandomSource, t: bigint, s: bigint): bigint {
  for (;;) {
    const u = rng.below(t);
    if (!bernoulliExp(rng, u, t)) continue; // accept U with probability e^{-U/t}
    let v = 0n;
    while (bernoulliExp(rng, 1n, 1n)) v++; // V ~ Geometric(1 - e^{-1})
    const y = (u + t * v) / s; // X = U + tV is geometric with parameter e^{-1/t}; Y = floor(X/s)
    const negative = rng.below(2n) === 1n;
    if (negative && y === 0n) continue; // so that 0 is not counted twice
    return negative ? -y : y;
  }
}
