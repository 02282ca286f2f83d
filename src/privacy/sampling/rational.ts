/**
 * Exact non-negative rationals for the samplers. A finite JavaScript number is a dyadic
 * rational m·2^e, so it converts to num/den exactly (no rounding ever happens here).
 */

/** num/den with den ≥ 1 (not necessarily reduced). */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** The exact value of a finite number, as num/2^k with the least k. @throws RangeError for NaN or ±Infinity */
export function exactRational(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError("not a finite number");
  let v = x;
  let den = 1n;
  // doubling a non-integer double is exact (it is below 2^53), and at most 1074 doublings reach an integer
  while (!Number.isInteger(v)) {
    v *= 2;
    den *= 2n;
  }
  return { num: BigInt(v), den };
}

/** A positive rational from a number, a bigint, or {num, den}. @throws RangeError unless finite and > 0 */
export function positiveRational(x: number | bigint | Rational, what: string): Rational {
  const r = typeof x === "number" ? exactRational(x) : typeof x === "bigint" ? { num: x, den: 1n } : x;
  if (typeof r?.num !== "bigint" || typeof r?.den !== "bigint" || r.den < 1n || r.num < 1n) throw new RangeError(`${what} must be a finite number > 0`);
  return r;
}

/** floor(sqrt(n)) for n ≥ 0 (Newton's method on integers). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError("isqrt of a negative number");
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n)))) + 1n; // a start at or above the root
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/** a/b + c/d, exactly. */
export function addRational(a: Rational, b: Rational): Rational {
  return reduceRational(a.den === b.den ? { num: a.num + b.num, den: a.den } : { num: a.num * b.den + b.num * a.den, den: a.den * b.den });
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compareRational(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** The same value with num and den coprime. */
export function reduceRational(r: Rational): Rational {
  const g = gcd(r.num, r.den);
  return g <= 1n ? r : { num: r.num / g, den: r.den / g };
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * The exact value of a decimal string such as "0.1", "3", "1e-6" (so a CLI ε of 0.1 is 1/10,
 * not the double nearest to it, and ten of them add up to exactly 1).
 * @returns null unless the text is a non-negative decimal.
 */
export function parseDecimal(text: string): Rational | null {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return null;
  const frac = m[2] ?? "";
  const exp = Number(m[3] ?? 0) - frac.length;
  let num = BigInt(m[1] + frac);
  let den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den = 10n ** BigInt(-exp);
  return reduceRational({ num, den });
}

/** The nearest double (for display and the float-only conversions). */
export function toNumber(r: Rational): number {
  if (r.num === 0n) return 0;
  const n = Number(r.num);
  const d = Number(r.den);
  if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
  // too large for a double on one side: drop the same low bits from both (the ratio keeps its precision)
  const shift = BigInt(Math.max(0, Math.max(r.num.toString(2).length, r.den.toString(2).length) - 1000));
  return Number(r.num >> shift) / Number(r.den >> shift);
}

/** "num/den", reduced: how the ledger stores an amount (exact, parseable by parseRationalText). */
export function rationalText(r: Rational): string {
  const x = reduceRational(r);
  return x.den === 1n ? `${x.num}` : `${x.num}/${x.den}`;
}

/** The inverse of rationalText. @returns null for anything else */
export function parseRationalText(text: string): Rational | null {
  const m = /^(\d{1,400})(?:\/(\d{1,400}))?$/.exec(text);
  if (m === null) return null;
  const den = BigInt(m[2] ?? "1");
  return den === 0n ? null : { num: BigInt(m[1]), den };
}

/** a·b, exactly. */
export function mulRational(a: Rational, b: Rational): Rational {
  return reduceRational({ num: a.num * b.num, den: a.den * b.den });
}
