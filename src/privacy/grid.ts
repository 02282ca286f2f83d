/**
 * Float release on a power-of-two grid (as Google's differential-privacy library does): a
 * real-valued query is computed exactly in integer units of g = 2^k, integer noise is added in
 * those units, and the release is (units + noise)·g. The released double is then a function
 * of the noisy integer alone, so its low bits cannot reveal the unnoised value (the attack of
 * Mironov 2012 on floating-point Laplace noise). Each input value is clamped, then rounded to
 * the grid, and the sum is exact (bigint), so the sensitivity is exactly what is stated, not
 * the floating-point sum's (Casacuberta et al. 2022).
 */

/** Units of the largest bound: values are at most 2^32 grid steps from 0, sums stay exact. */
const STEPS_BITS = 32;

/** The grid step for values bounded by maxAbs in absolute value: 2^(ceil(log2 maxAbs) - 32). */
export function granularityFor(maxAbs: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return 1;
  let e = Math.ceil(Math.log2(maxAbs));
  while (2 ** e < maxAbs) e++;
  while (2 ** (e - 1) >= maxAbs) e--;
  return 2 ** (e - STEPS_BITS);
}

/** v in grid units (v/g is exact: g is a power of two), rounded to the nearest step. */
export function toUnits(v: number, g: number): number {
  return Math.round(v / g);
}

/** units·g as a double (exact while |units| < 2^53; beyond, rounded, which is still post-processing of the noisy integer). */
export function fromUnits(units: bigint, g: number): number {
  return Number(units) * g;
}

/** Exact sum of integer-valued doubles (each below 2^53 in magnitude): a float accumulator flushed into a bigint before it could round. */
export class ExactSum {
  #big = 0n;
  #acc = 0;
  add(units: number): void {
    this.#acc += units;
    if (this.#acc > 2 ** 52 || this.#acc < -(2 ** 52)) {
      this.#big += BigInt(this.#acc);
      this.#acc = 0;
    }
  }
  get value(): bigint {
    return this.#big + BigInt(this.#acc);
  }
}
