/**
 * Where the samplers' randomness comes from: uniform integers below a bound, and nothing else
 * (no floating point). The default reads node:crypto's CSPRNG through a buffer; a seeded source
 * (an AES-256-CTR keystream, also node:crypto) makes test runs and deep checks reproducible.
 */
import { createCipheriv, createHash, randomFillSync } from "node:crypto";

/** Contract: `below(n)` for a bigint n ≥ 1 returns a uniformly random bigint in [0, n). */
export interface RandomSource {
  below(n: bigint): bigint;
}

const WORDS = 4096;
const TWO32 = 0x1_0000_0000n;

/** Uniform integers from a stream of random 32-bit words, by rejection (no modulo bias). */
class WordSource implements RandomSource {
  readonly #fill: (into: Uint32Array) => void;
  readonly #words = new Uint32Array(WORDS);
  #next = WORDS;

  constructor(fill: (into: Uint32Array) => void) {
    this.#fill = fill;
  }

  #word(): number {
    if (this.#next === WORDS) {
      this.#fill(this.#words);
      this.#next = 0;
    }
    return this.#words[this.#next++];
  }

  below(n: bigint): bigint {
    if (typeof n !== "bigint" || n < 1n) throw new RangeError("below(n) needs a bigint n >= 1");
    if (n <= TWO32) {
      const m = Number(n);
      if (m === 1) return 0n;
      const bits = 32 - Math.clz32(m - 1); // m - 1 < 2^bits: the smallest all-ones mask covering [0, m)
      const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
      for (;;) {
        const x = (this.#word() & mask) >>> 0;
        if (x < m) return BigInt(x);
      }
    }
    const bits = (n - 1n).toString(2).length;
    const words = Math.ceil(bits / 32);
    const mask = (1n << BigInt(bits)) - 1n;
    for (;;) {
      let x = 0n;
      for (let i = 0; i < words; i++) x = (x << 32n) | BigInt(this.#word());
      x &= mask;
      if (x < n) return x;
    }
  }
}

/** The default: node:crypto's CSPRNG (randomFillSync), 16 KiB at a time. */
export function cryptoRandomSource(): RandomSource {
  return new WordSource((w) => randomFillSync(w));
}

/**
 * A reproducible source: the AES-256-CTR keystream under SHA-256(seed). For tests and
 * goodness-of-fit runs only: anyone who knows the seed knows the noise, so never release
 * results drawn from it.
 */
export function seededRandomSource(seed: string | Uint8Array): RandomSource {
  const key = createHash("sha256").update(seed).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(WORDS * 4);
  return new WordSource((w) => {
    const bytes = cipher.update(zeros);
    new Uint8Array(w.buffer, w.byteOffset, w.byteLength).set(bytes);
  });
}

let shared: RandomSource | undefined;
/** One process-wide crypto source (its buffer is reused across calls). */
export function defaultRandomSource(): RandomSource {
  return (shared ??= cryptoRandomSource());
}
