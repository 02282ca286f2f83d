/**
 * Arithmetic in the prime field GF(p), p = 2^521 − 1 (a Mersenne prime), for Shamir secret
 * sharing (Bonawitz et al. CCS 2017 §3.1: shares are field elements; any secret below p can
 * be shared). 2^521 − 1 holds a 32-byte key or seed with room to spare, and its reduction is
 * two shifts and an add. Field elements are bigints in [0, p).
 */
import { randomBytes } from "node:crypto";

export const P = (1n << 521n) - 1n;
/** Bytes of an encoded field element (big-endian, fixed width). */
export const ELEMENT_BYTES = 66;

/** x mod p for 0 ≤ x < p² (Mersenne reduction: 2^521 ≡ 1). */
export function reduce(x: bigint): bigint {
  while (x > P) x = (x & P) + (x >> 521n);
  return x === P ? 0n : x;
}

export const add = (a: bigint, b: bigint): bigint => reduce(a + b);
export const sub = (a: bigint, b: bigint): bigint => reduce(a - b + P);
export const mul = (a: bigint, b: bigint): bigint => reduce(a * b);

/** a^-1 mod p by the extended Euclidean algorithm. @throws RangeError for 0. */
export function inv(a: bigint): bigint {
  if (a === 0n) throw new RangeError("0 has no inverse");
  let [r0, r1, s0, s1] = [P, a, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % P) + P) % P;
}

/** A uniform field element from node:crypto (rejection sampling over 521-bit strings). */
export function randomElement(): bigint {
  for (;;) {
    const b = randomBytes(ELEMENT_BYTES);
    b[0] &= 0x01; // 66 bytes = 528 bits; keep the low 521
    const x = BigInt(`0x${b.toString("hex")}`);
    if (x < P) return x;
  }
}

export function toBytes(x: bigint, length = ELEMENT_BYTES): Buffer {
  const hex = x.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new RangeError("value does not fit");
  return Buffer.from(hex, "hex");
}

export function fromBytes(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString("hex")}`);
}
