/**
 * Goodness of fit of the samplers against their exact distributions: CDFs, bins and the
 * chi-square statistic. Used by the tests (fixed seed) and the deep run in bench/privacy.js;
 * exported so that a caller injecting its own RandomSource can check it the same way.
 * Floating point is fine here: nothing is sampled.
 */

/** P[X = x] of the discrete Laplace with scale b, exactly in closed form (floats only for evaluation). */
export function laplacePmf(b: number, x: number): number {
  const r = Math.exp(-1 / b);
  return ((1 - r) / (1 + r)) * Math.exp(-Math.abs(x) / b);
}

/** P[X ≤ x] of the discrete Laplace with scale b. */
export function laplaceCdf(b: number, x: number): number {
  const r = Math.exp(-1 / b);
  // P[X ≥ k] = r^k/(1+r) for k ≥ 1; symmetric. r^k as e^{-k/b}, not e^{k·ln r}: for a large b
  // (a sum's scale in grid units, ~1e10) r rounds to within 1e-16 of 1, so ln r keeps only ~6 digits
  if (x < 0) return Math.exp(x / b) / (1 + r);
  return 1 - Math.exp(-(x + 1) / b) / (1 + r);
}

function erfc(x: number): number {
  // Numerical Recipes erfcc (fractional error < 1.2e-7)
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * P[X ≤ x] of the discrete Gaussian with parameter σ: by summing the PMF for σ ≤ 50, else the
 * normal CDF at x + 1/2 (the two agree to within e^{-2π²σ²} by Poisson summation).
 */
export function gaussianCdf(sigma: number, x: number): number {
  if (sigma > 50) return 0.5 * erfc(-(x + 0.5) / (sigma * Math.SQRT2));
  const top = Math.ceil(40 * sigma + 40);
  let z = 0;
  let below = 0;
  for (let k = -top; k <= top; k++) {
    const w = Math.exp(-(k * k) / (2 * sigma * sigma));
    z += w;
    if (k <= x) below += w;
  }
  return below / z;
}

/** Integer bin edges e_0 < … so each bin [e_i, e_{i+1}) holds about 1/bins of the mass (merged where the distribution is too coarse). */
export function equalMassBins(cdf: (x: number) => number, bins: number, spread: number): number[] {
  const edges: number[] = [];
  const lo = -Math.ceil(spread);
  const hi = Math.ceil(spread);
  for (let i = 1; i < bins; i++) {
    const target = i / bins;
    let a = lo;
    let b = hi;
    while (b - a > 1) {
      const m = Math.floor((a + b) / 2);
      if (cdf(m) < target) a = m;
      else b = m;
    }
    if (edges.length === 0 || b > edges[edges.length - 1]) edges.push(b);
  }
  return edges; // bins: (-inf, e0), [e0, e1), …, [e_last, inf)
}

/** The chi-square statistic of the samples against the CDF over those bins, and its degrees of freedom. */
export function chiSquare(samples: readonly number[], cdf: (x: number) => number, edges: readonly number[]): { stat: number; df: number } {
  const k = edges.length + 1;
  const observed = new Array<number>(k).fill(0);
  for (const s of samples) {
    let i = 0;
    while (i < edges.length && s >= edges[i]) i++;
    observed[i]++;
  }
  const p: number[] = [];
  let prev = 0;
  for (let i = 0; i < edges.length; i++) {
    const c = cdf(edges[i] - 1);
    p.push(c - prev);
    prev = c;
  }
  p.push(1 - prev);
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const e = p[i] * samples.length;
    stat += (observed[i] - e) ** 2 / e;
  }
  return { stat, df: k - 1 };
}

/** The chi-square quantile at 1 - alpha (Wilson–Hilferty). */
export function chiSquareCritical(df: number, z = 3.09 /* alpha 0.001 */): number {
  const h = 2 / (9 * df);
  return df * (1 - h + z * Math.sqrt(h)) ** 3;
}

/** One bin per integer in the centre, where each expects at least 5 of n samples (for coarse, small-scale distributions). */
export function integerBins(cdf: (x: number) => number, n: number): number[] {
  const pmf = (x: number) => cdf(x) - cdf(x - 1);
  let m = 0;
  while (pmf(m + 1) * n >= 5 && cdf(-(m + 2)) * n >= 5) m++;
  const edges: number[] = [];
  for (let x = -m; x <= m + 1; x++) edges.push(x);
  return edges;
}
