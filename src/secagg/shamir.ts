/**
 * Shamir secret sharing over GF(2^521 − 1) (Shamir 1979; Bonawitz et al. CCS 2017 §3.1,
 * SS.share / SS.recon). A secret of up to 64 bytes is the constant term of a random
 * polynomial of degree t − 1; the share of the holder with public index x is (x, f(x)).
 * Any t shares determine the secret (Lagrange interpolation at 0); any t − 1 are uniformly
 * distributed and independent of it.
 *
 * Written from the definition because no audited sharing library is installed
 * (`shamir-secret-sharing` would do over GF(2^8), but it is not among the dependencies).
 */
import { ELEMENT_BYTES, P, add, fromBytes, inv, mul, randomElement, sub, toBytes } from "./field.js";
import { SecaggError } from "./errors.js";

/** One share: the holder's public index (1 ≤ x < 2^31) and f(x), 66 bytes big-endian. */
export interface Share {
  readonly x: number;
  readonly y: Uint8Array;
}

export const MAX_SECRET_BYTES = 64;

function checkX(x: number): void {
  if (!Number.isInteger(x) || x < 1 || x >= 2 ** 31) throw new RangeError(`share index ${x} must be an integer in 1..2^31-1`);
}

/**
 * Splits `secret` into one share per index in `xs`, any `t` of which recover it.
 * @throws RangeError for t < 1, t > xs.length, repeated or out-of-range indices, or a secret over 64 bytes.
 */
export function split(secret: Uint8Array, xs: readonly number[], t: number): Share[] {
  if (secret.length > MAX_SECRET_BYTES) throw new RangeError(`a secret is at most ${MAX_SECRET_BYTES} bytes`);
  if (!Number.isInteger(t) || t < 1 || t > xs.length) throw new RangeError(`threshold ${t} must be in 1..${xs.length}`);
  xs.forEach(checkX);
  if (new Set(xs).size !== xs.length) throw new RangeError("share indices must be distinct");
  // f(X) = s + a1·X + … + a_{t−1}·X^{t−1}, coefficients uniform in GF(p)
  const coeffs = [fromBytes(secret)];
  for (let i = 1; i < t; i++) coeffs.push(randomElement());
  const shares = xs.map((x) => {
    const bx = BigInt(x);
    let y = 0n;
    for (let i = coeffs.length - 1; i >= 0; i--) y = add(mul(y, bx), coeffs[i]); // Horner
    return { x, y: toBytes(y) };
  });
  coeffs.fill(0n);
  return shares;
}

/**
 * The Lagrange coefficients λ_i = Π_{j≠i} x_j / (x_j − x_i) for interpolation at 0, with one
 * field inversion for the whole set (Montgomery's batch trick). Reusable for every secret
 * shared to the same holders.
 */
export function lagrangeAtZero(xs: readonly number[]): bigint[] {
  const bx = xs.map(BigInt);
  const nums: bigint[] = [];
  const dens: bigint[] = [];
  for (let i = 0; i < bx.length; i++) {
    let num = 1n;
    let den = 1n;
    for (let j = 0; j < bx.length; j++) {
      if (j === i) continue;
      num = mul(num, bx[j]);
      den = mul(den, sub(bx[j], bx[i]));
    }
    nums.push(num);
    dens.push(den);
  }
  const prefix: bigint[] = [];
  let acc = 1n;
  for (const d of dens) {
    prefix.push(acc);
    acc = mul(acc, d);
  }
  let invAcc = inv(acc);
  const out = new Array<bigint>(dens.length);
  for (let i = dens.length - 1; i >= 0; i--) {
    out[i] = mul(nums[i], mul(invAcc, prefix[i])); // invAcc·prefix_i = 1/d_i
    invAcc = mul(invAcc, dens[i]);
  }
  return out;
}

/**
 * Recovers a secret of `length` bytes from the first `t` of `shares` (distinct indices).
 * With the wrong shares the result is some other value: callers check it against a
 * commitment (the advertised public key, the seed's hash).
 * @throws SecaggError(SECAGG_ABORTED) with fewer than t shares; SecaggError(SECAGG_PROTOCOL)
 *   for malformed or repeated shares or a value that is not a `length`-byte secret.
 */
export function combine(shares: readonly Share[], t: number, length: number, coefficients?: readonly bigint[]): Buffer {
  if (shares.length < t) throw new SecaggError("SECAGG_ABORTED", `${shares.length} shares, ${t} needed to reconstruct`);
  const use = shares.slice(0, t);
  for (const s of use) {
    checkX(s.x);
    if (s.y.length !== ELEMENT_BYTES) throw new SecaggError("SECAGG_PROTOCOL", "a share is not a field element");
  }
  if (new Set(use.map((s) => s.x)).size !== use.length) throw new SecaggError("SECAGG_PROTOCOL", "two shares with the same index");
  const lambda = coefficients ?? lagrangeAtZero(use.map((s) => s.x));
  let secret = 0n;
  for (let i = 0; i < use.length; i++) {
    const y = fromBytes(use[i].y);
    if (y >= P) throw new SecaggError("SECAGG_PROTOCOL", "a share is not a field element");
    secret = add(secret, mul(lambda[i], y));
  }
  if (secret >> BigInt(8 * length) !== 0n) throw new SecaggError("SECAGG_PROTOCOL", "the shares do not reconstruct a secret of the expected size");
  return toBytes(secret, length);
}
