/**
 * Quantization of real vectors into Z_{2^32} for masking (as Flower's SecAgg+ does; its
 * defaults: clipping range 8, quantization range 2^22, modulus 2^32). A value is clipped to
 * [−c, c], mapped linearly onto [0, R − 1] and rounded to the nearest integer; the sum of n
 * such integers is exact modulo 2^32 as long as n·(R − 1) < 2^32 (n ≤ 1024 with the default
 * R = 2^22), and dequantizing it subtracts n·c.
 *
 * Error bound (stated, and tested): for every coordinate, |result − Σ clip(x_i)| ≤ n·c/(R − 1)
 * (rounding is off by at most half a step, step = 2c/(R − 1)), plus the float64 rounding
 * of the dequantization itself. Values inside [−c, c] are not clipped; a value outside
 * contributes ±c (that is the clipping error, the caller's choice of c).
 */
export interface Quantization {
  /** c: values are clipped to [−c, c]. */
  readonly clip: number;
  /** R: number of quantization levels. */
  readonly levels: number;
}

export const DEFAULT_QUANTIZATION: Quantization = { clip: 8, levels: 2 ** 22 };
const MODULUS = 2 ** 32;

/** The largest number of parties whose quantized sum cannot wrap modulo 2^32. */
export function maxParties(q: Quantization): number {
  return Math.floor((MODULUS - 1) / (q.levels - 1));
}

/** Per-coordinate bound on |result − Σ clip(x)| for n parties. */
export function errorBound(q: Quantization, n: number): number {
  return (n * q.clip) / (q.levels - 1);
}

/** @throws RangeError for a clip that is not a positive finite number or levels outside 2..2^32. */
export function checkQuantization(q: Quantization): void {
  if (!(Number.isFinite(q.clip) && q.clip > 0)) throw new RangeError("the clipping range must be a positive number");
  if (!(Number.isInteger(q.levels) && q.levels >= 2 && q.levels <= MODULUS)) throw new RangeError("the quantization range must be an integer in 2..2^32");
}

/** Clip, scale to [0, R − 1], round. NaN is refused (it has no place in a sum). */
export function quantize(x: ArrayLike<number>, q: Quantization): Uint32Array {
  const scale = (q.levels - 1) / (2 * q.clip);
  const out = new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) throw new RangeError(`coordinate ${i} is NaN`);
    const c = v < -q.clip ? -q.clip : v > q.clip ? q.clip : v;
    out[i] = Math.round((c + q.clip) * scale);
  }
  return out;
}

/** The real sum of n parties' values from the sum of their quantized vectors (mod 2^32). */
export function dequantizeSum(sum: Uint32Array, n: number, q: Quantization): Float64Array {
  const step = (2 * q.clip) / (q.levels - 1);
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = sum[i] * step - n * q.clip;
  return out;
}
