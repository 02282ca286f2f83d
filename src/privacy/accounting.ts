/**
 * Privacy accounting: what a query costs and what a budget allows. Pure ε-DP composes by
 * adding (sequential composition); the Gaussian mechanism is accounted in ρ-zCDP (Bun and
 * Steinke 2016), which also adds, and converts to (ε, δ)-DP with their Proposition 1.3:
 * ε = ρ + 2·sqrt(ρ·ln(1/δ)). A budget is either (ε, δ) or ρ (zCDP):
 *
 * - (ε, δ): spent ε = Σ ε_pure + ε(Σ ρ, δ) (basic composition of the pure part with the
 *   converted zCDP part); Gaussian spends need δ > 0.
 * - ρ: spent ρ = Σ ρ + Σ ε_pure²/2 (an ε-DP mechanism is ε²/2-zCDP, BS16 Proposition 1.4).
 *
 * Amounts are exact rationals (a CLI ε of "0.1" is 1/10), so sums and the comparison with a
 * limit are exact; only the zCDP→(ε, δ) conversion uses floating point, with a margin in the
 * refusing direction.
 */
import { type Rational, addRational, compareRational, mulRational, toNumber } from "./sampling/rational.js";

export interface BudgetLimits {
  /** Total ε of an (ε, δ) budget; undefined for a zCDP budget. */
  readonly epsilon?: Rational;
  /** δ of an (ε, δ) budget (0: pure ε only); 0 for a zCDP budget. */
  readonly delta: number;
  /** Total ρ of a zCDP budget; undefined for an (ε, δ) budget. */
  readonly rho?: Rational;
}

/** One spend: a pure ε-DP release, or a ρ-zCDP one. */
export type Cost = { readonly epsilon: Rational; readonly rho?: undefined } | { readonly rho: Rational; readonly epsilon?: undefined };

export interface Spent {
  /** Σ ε of pure spends. */
  readonly pureEpsilon: number;
  /** Σ ρ of zCDP spends. */
  readonly rho: number;
  /** In the budget's own terms: ε for an (ε, δ) budget, ρ for a zCDP one. */
  readonly total: number;
  readonly limit: number;
  readonly left: number;
}

/** Margin on float conversions, so rounding can only refuse, never overspend. */
const MARGIN = 1 + 2 ** -40;
const ZERO: Rational = { num: 0n, den: 1n };

/** BS16 Proposition 1.3: ρ-zCDP implies (ρ + 2·sqrt(ρ·ln(1/δ)), δ)-DP (rounded up). */
export function epsilonFromRho(rho: number, delta: number): number {
  if (rho === 0) return 0;
  if (!(delta > 0 && delta < 1)) return Infinity;
  return (rho + 2 * Math.sqrt(rho * Math.log(1 / delta))) * MARGIN;
}

/** A ρ whose conversion at δ is at most ε (the inverse of epsilonFromRho, rounded down). */
export function rhoFromEpsilonDelta(epsilon: number, delta: number): number {
  if (!(epsilon > 0) || !(delta > 0 && delta < 1)) throw new RangeError("a Gaussian release needs epsilon > 0 and 0 < delta < 1");
  const l = Math.log(1 / delta);
  let rho = (Math.sqrt(l + epsilon) - Math.sqrt(l)) ** 2;
  while (epsilonFromRho(rho, delta) > epsilon) rho *= 1 - 2 ** -30; // a few steps at most
  return rho;
}

function sums(spends: readonly Cost[]): { pure: Rational; rho: Rational; pureSquaredHalf: Rational } {
  let pure = ZERO;
  let rho = ZERO;
  let pureSquaredHalf = ZERO;
  for (const s of spends) {
    if (s.epsilon !== undefined) {
      pure = addRational(pure, s.epsilon);
      pureSquaredHalf = addRational(pureSquaredHalf, mulRational(mulRational(s.epsilon, s.epsilon), { num: 1n, den: 2n }));
    } else rho = addRational(rho, s.rho);
  }
  return { pure, rho, pureSquaredHalf };
}

/** What `spends` used of `limits`. */
export function spentOf(limits: BudgetLimits, spends: readonly Cost[]): Spent {
  const s = sums(spends);
  const pureEpsilon = toNumber(s.pure);
  const rho = toNumber(s.rho);
  if (limits.rho !== undefined) {
    const total = toNumber(addRational(s.rho, s.pureSquaredHalf));
    const limit = toNumber(limits.rho);
    return { pureEpsilon, rho, total, limit, left: Math.max(0, limit - total) };
  }
  const total = pureEpsilon + epsilonFromRho(rho, limits.delta);
  const limit = toNumber(limits.epsilon as Rational);
  return { pureEpsilon, rho, total, limit, left: Math.max(0, limit - total) };
}

/** Whether `cost` fits in what `spends` left of `limits` (exact unless a zCDP part must be converted to ε). */
export function fits(limits: BudgetLimits, spends: readonly Cost[], cost: Cost): boolean {
  const s = sums([...spends, cost]);
  if (limits.rho !== undefined) return compareRational(addRational(s.rho, s.pureSquaredHalf), limits.rho) <= 0;
  const eps = limits.epsilon as Rational;
  if (s.rho.num === 0n) return compareRational(s.pure, eps) <= 0;
  return toNumber(s.pure) * MARGIN + epsilonFromRho(toNumber(s.rho), limits.delta) <= toNumber(eps);
}
