// the goodness-of-fit helpers live in src (the bench uses them too)
export { chiSquare, chiSquareCritical, equalMassBins, gaussianCdf, integerBins, laplaceCdf, laplacePmf } from "../../src/privacy/fit.js";

/** P(X = k) for X ~ Binomial(n, p), through logs (no overflow at n = 200). */
function binomialPmf(n: number, p: number, k: number): number {
  let logChoose = 0;
  for (let i = 1; i <= k; i++) logChoose += Math.log((n - k + i) / i);
  return Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** The largest k with P(X < k) ≤ alpha for X ~ Binomial(n, p): fewer than k successes has probability at most alpha. */
export function binomialLowerBound(n: number, p: number, alpha: number): number {
  let k = 0;
  let below = 0;
  while (k <= n && below + binomialPmf(n, p, k) <= alpha) below += binomialPmf(n, p, k++);
  return k;
}
