import { createCipheriv, type Cipher } from "node:crypto";

/**
 * FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, §5.1) with AES-128/192/256.
 * Numeral strings are arrays of integers in [0, radix). Checked against NIST's FF1 samples
 * (test/vectors/nist-ff1/).
 *
 * Security guarantees: a keyed permutation of the strings of length n over the radix;
 * deterministic per (key, tweak), so equal inputs give equal outputs. The domain must hold at
 * least one million strings (SP 800-38G Rev. 1 §5.2: radix^minlen ≥ 1,000,000); smaller
 * domains are refused because they can be enumerated.
 */
export const FF1_MIN_DOMAIN = 1_000_000n;
/** Rev. 1 allows 2^32; pipeseal caps strings far lower so a value cannot stall a stream. */
export const FF1_MAX_LEN = 4096;

export class Ff1 {
  readonly #ecb: Cipher;
  readonly radix: number;
  readonly #bigRadix: bigint;

  /**
   * @throws RangeError for a key that is not 16/24/32 bytes or a radix outside 2..65536.
   */
  constructor(key: Uint8Array, radix: number) {
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError("an FF1 key must be 16, 24 or 32 bytes");
    if (!Number.isInteger(radix) || radix < 2 || radix > 65536) throw new RangeError("FF1 radix must be in 2..65536");
    // One ECB context, fed one block at a time: the PRF's CBC chaining is done here (§4.3 Alg. 6).
    this.#ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    this.#ecb.setAutoPadding(false);
    this.radix = radix;
    this.#bigRadix = BigInt(radix);
  }

  /** Smallest length whose domain reaches 10^6 for this radix. */
  minLength(): number {
    let n = 2;
    while (this.#bigRadix ** BigInt(n) < FF1_MIN_DOMAIN) n++;
    return n;
  }

  encrypt(x: readonly number[], tweak: Uint8Array = new Uint8Array(0)): number[] {
    return this.#run(x, tweak, true);
  }

  decrypt(x: readonly number[], tweak: Uint8Array = new Uint8Array(0)): number[] {
    return this.#run(x, tweak, false);
  }

  #run(x: readonly number[], tweak: Uint8Array, enc: boolean): number[] {
    const n = x.length;
    if (n < this.minLength() || n > FF1_MAX_LEN) {
      throw new RangeError(`FF1 over radix ${this.radix} needs ${this.minLength()}..${FF1_MAX_LEN} numerals (domain ≥ 10^6, SP 800-38G Rev. 1 §5.2)`);
    }
    for (const d of x) if (!Number.isInteger(d) || d < 0 || d >= this.radix) throw new RangeError("numeral out of range for the radix");
    const t = tweak.length;
    // §5.1 Alg. 7 steps 1-5
    const u = Math.floor(n / 2);
    const v = n - u;
    let a = this.#num(x.slice(0, u));
    let b = this.#num(x.slice(u));
    const bLen = Math.ceil(bitLength(this.#bigRadix ** BigInt(v) - 1n) / 8);
    const d = 4 * Math.ceil(bLen / 4) + 4;
    const p = Buffer.alloc(16);
    p.set([1, 2, 1]);
    p.writeUIntBE(this.radix, 3, 3);
    p[6] = 10;
    p[7] = u % 256;
    p.writeUInt32BE(n, 8);
    p.writeUInt32BE(t, 12);
    const pad = (((-t - bLen - 1) % 16) + 16) % 16;
    const q = Buffer.alloc(t + pad + 1 + bLen);
    q.set(tweak, 0);
    const modU = this.#bigRadix ** BigInt(u);
    const modV = this.#bigRadix ** BigInt(v);
    // §5.1 Alg. 7 step 6 (encrypt) / Alg. 8 step 6 (decrypt, rounds reversed)
    for (let k = 0; k < 10; k++) {
      const i = enc ? k : 9 - k;
      q[t + pad] = i;
      writeBig(q, t + pad + 1, bLen, enc ? b : a);
      const y = this.#y(p, q, d);
      const m = i % 2 === 0 ? modU : modV;
      if (enc) {
        const c = mod(a + y, m);
        a = b;
        b = c;
      } else {
        const c = mod(b - y, m);
        b = a;
        a = c;
      }
    }
    return [...this.#str(a, u), ...this.#str(b, v)];
  }

  /** Steps 6.ii-iv: R = PRF(P || Q); S = R || CIPH(R ⊕ [1]) || …, first d bytes; y = NUM(S). */
  #y(p: Buffer, q: Buffer, d: number): bigint {
    let r = this.#ecb.update(p);
    for (let off = 0; off < q.length; off += 16) {
      const blk = Buffer.allocUnsafe(16);
      for (let j = 0; j < 16; j++) blk[j] = r[j] ^ q[off + j];
      r = this.#ecb.update(blk);
    }
    const blocks = [r];
    for (let j = 1; j * 16 < d; j++) {
      const blk = Buffer.from(r);
      blk.writeUInt32BE((blk.readUInt32BE(12) ^ j) >>> 0, 12); // R ⊕ [j]^16
      blocks.push(this.#ecb.update(blk));
    }
    return BigInt("0x" + Buffer.concat(blocks).subarray(0, d).toString("hex"));
  }

  #num(x: readonly number[]): bigint {
    let r = 0n;
    for (const d of x) r = r * this.#bigRadix + BigInt(d);
    return r;
  }

  #str(value: bigint, len: number): number[] {
    const out = new Array<number>(len);
    for (let i = len - 1; i >= 0; i--) {
      out[i] = Number(value % this.#bigRadix);
      value /= this.#bigRadix;
    }
    return out;
  }
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function writeBig(buf: Buffer, off: number, len: number, value: bigint): void {
  for (let i = off + len - 1; i >= off; i--) {
    buf[i] = Number(value & 0xffn);
    value >>= 8n;
  }
}
