/**
 * The noise of a release, in units of its grid: discrete Laplace for pure ε-DP, discrete
 * Gaussian for ρ-zCDP (CKS20 Theorems 2 and 4: an integer query with ℓ1 sensitivity Δ plus
 * discrete Laplace noise of scale Δ/ε is ε-DP; with ℓ2 sensitivity Δ plus discrete Gaussian
 * noise of σ² = Δ²/(2ρ), ρ-zCDP). The scale is an exact rational computed from Δ and ε or ρ,
 * and the 95% interval is computed from the noise distribution alone, never from the data.
 */
import { type Rational, reduceRational, toNumber } from "./sampling/rational.js";
import { discreteLaplace } from "./sampling/discrete-laplace.js";
import { sampleDiscreteGaussianSq } from "./sampling/discrete-gaussian.js";
import type { RandomSource } from "./sampling/random.js";

export type MechanismName = "laplace" | "gaussian";

export interface Noise {
  readonly mechanism: MechanismName;
  /** Laplace: the scale b (P ∝ e^{-|x|/b}); Gaussian: σ. In grid units, as a float for display. */
  readonly scale: number;
  /** Laplace: b exactly; Gaussian: σ² exactly. */
  readonly exact: Rational;
  sample(rng: RandomSource): bigint;
  /** The least integer m with P(|noise| ≤ m) ≥ 1 - alpha. */
  halfWidth(alpha?: number): number;
}

/** Discrete Laplace noise for an integer query of ℓ1 sensitivity Δ under ε. */
export function laplaceNoise(sensitivity: bigint, epsilon: Rational): Noise {
  if (sensitivity < 1n) throw new RangeError("sensitivity must be >= 1");
  const scale = reduceRational({ num: sensitivity * epsilon.den, den: epsilon.num }); // Δ/ε
  return {
    mechanism: "laplace",
    scale: toNumber(scale),
    exact: scale,
    sample: (rng) => discreteLaplace(rng, scale.num, scale.den),
    halfWidth: (alpha = 0.05) => laplaceHalfWidth(toNumber(scale), alpha),
  };
}

/** Discrete Gaussian noise for an integer query of ℓ2 sensitivity Δ (given as Δ², an integer even when Δ is not) under ρ-zCDP. */
export function gaussianNoise(sensitivitySquared: bigint, rho: Rational): Noise {
  if (sensitivitySquared < 1n) throw new RangeError("sensitivity must be >= 1");
  const sigmaSq = reduceRational({ num: sensitivitySquared * rho.den, den: 2n * rho.num }); // Δ²/(2ρ)
  const sigma = Math.sqrt(toNumber(sigmaSq));
  return {
    mechanism: "gaussian",
    scale: sigma,
    exact: sigmaSq,
    sample: (rng) => sampleDiscreteGaussianSq(sigmaSq, rng),
    halfWidth: (alpha = 0.05) => gaussianHalfWidth(sigma, alpha),
  };
}

/** P(|Z| > m) = 2·r^(m+1)/(1+r) with r = e^{-1/b} for the discrete Laplace of scale b. */
function laplaceTail(b: number, m: number): number {
  const r = Math.exp(-1 / b);
  return (2 * Math.exp(-(m + 1) / b)) / (1 + r);
}

function laplaceHalfWidth(b: number, alpha: number): number {
  let m = Math.max(0, Math.ceil(b * Math.log(2 / (alpha * (1 + Math.exp(-1 / b))))) - 1);
  if (m > 2 ** 50) return m + Math.ceil(m * 2 ** -40); // beyond, m + 1 may equal m: the closed form, rounded out
  while (laplaceTail(b, m) > alpha) m++;
  while (m > 0 && laplaceTail(b, m - 1) <= alpha) m--;
  return m;
}

function gaussianHalfWidth(sigma: number, alpha: number): number {
  if (sigma >= 30) {
    // the discrete Gaussian's CDF is the normal's within e^{-2π²σ²} (Poisson summation): negligible here
    return Math.ceil(normalQuantile(1 - alpha / 2) * sigma);
  }
  const top = Math.ceil(40 * sigma + 40);
  const w = (x: number) => Math.exp(-(x * x) / (2 * sigma * sigma));
  let z = 0;
  for (let x = top; x >= 1; x--) z += 2 * w(x);
  z += 1;
  let inside = 1;
  let m = 0;
  while (inside / z < 1 - alpha) {
    m++;
    inside += 2 * w(m);
  }
  return m;
}

/** The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
