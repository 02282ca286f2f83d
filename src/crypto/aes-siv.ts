import { createCipheriv, timingSafeEqual } from "node:crypto";
import { DecryptError } from "../errors.js";
import { BLOCK, Cmac, aesCipherName, dbl } from "./cmac.js";

/**
 * AES-SIV (RFC 5297): deterministic authenticated encryption with associated data.
 * Key: 32, 48 or 64 bytes = K1 (S2V / AES-CMAC) || K2 (AES-CTR), i.e. AES-128/192/256-SIV.
 * Output: V (16-byte synthetic IV) || C.
 *
 * Security guarantees: equal (key, associated data, plaintext) give equal ciphertexts and
 * nothing else is leaked beyond the plaintext length; any change to V, C or the associated
 * data is rejected (one opaque DecryptError). There is no nonce to misuse.
 * Checked against RFC 5297 appendix A and Wycheproof `aes_siv_cmac_test.json`.
 *
 * @example
 * const siv = new AesSiv(key64);
 * const ct = siv.seal(plaintext, [Buffer.from("users.email")]);
 * siv.open(ct, [Buffer.from("users.email")]);
 */
export class AesSiv {
  readonly #cmac: Cmac;
  readonly #k2: Buffer;
  readonly #ctr: string;

  constructor(key: Uint8Array) {
    if (key.length !== 32 && key.length !== 48 && key.length !== 64) throw new RangeError("an AES-SIV key must be 32, 48 or 64 bytes");
    const half = key.length / 2;
    this.#cmac = new Cmac(key.subarray(0, half));
    this.#k2 = Buffer.from(key.subarray(half));
    this.#ctr = aesCipherName(this.#k2, "ctr");
  }

  /** S2V (RFC 5297 §2.4) over the associated-data vector and the plaintext (last string). */
  #s2v(ad: readonly Uint8Array[], plaintext: Uint8Array): Buffer {
    if (ad.length > 126) throw new RangeError("AES-SIV takes at most 126 associated-data strings (RFC 5297 §7)");
    let d = this.#cmac.mac(Buffer.alloc(BLOCK)); // D = AES-CMAC(K, <zero>)
    for (const s of ad) {
      const m = this.#cmac.mac(s);
      d = dbl(d);
      for (let i = 0; i < BLOCK; i++) d[i] ^= m[i];
    }
    let t: Buffer;
    if (plaintext.length >= BLOCK) {
      t = Buffer.from(plaintext); // T = Sn xorend D
      const off = t.length - BLOCK;
      for (let i = 0; i < BLOCK; i++) t[off + i] ^= d[i];
    } else {
      t = dbl(d); // T = dbl(D) xor pad(Sn)
      for (let i = 0; i < plaintext.length; i++) t[i] ^= plaintext[i];
      t[plaintext.length] ^= 0x80;
    }
    const v = this.#cmac.mac(t);
    t.fill(0);
    return v;
  }

  #ctrXor(v: Uint8Array, data: Uint8Array): Buffer {
    // RFC 5297 §2.6: Q = V bitand (1^64 || 0^1 || 1^31 || 0^1 || 1^31)
    const q = Buffer.from(v);
    q[8] &= 0x7f;
    q[12] &= 0x7f;
    const c = createCipheriv(this.#ctr, this.#k2, q);
    return Buffer.concat([c.update(data), c.final()]);
  }

  /** SIV-ENCRYPT (RFC 5297 §2.6) → V || C. */
  seal(plaintext: Uint8Array, ad: readonly Uint8Array[] = []): Buffer {
    const v = this.#s2v(ad, plaintext);
    return Buffer.concat([v, this.#ctrXor(v, plaintext)]);
  }

  /**
   * SIV-DECRYPT (RFC 5297 §2.7). The plaintext is released only if V verifies (constant-time compare).
   * @throws DecryptError for any failure (short input, wrong key or associated data, tampering).
   */
  open(sealed: Uint8Array, ad: readonly Uint8Array[] = []): Buffer {
    if (sealed.length < BLOCK) throw new DecryptError();
    const v = sealed.subarray(0, BLOCK);
    const p = this.#ctrXor(v, sealed.subarray(BLOCK));
    const t = this.#s2v(ad, p);
    if (!timingSafeEqual(t, v)) {
      p.fill(0);
      throw new DecryptError();
    }
    return p;
  }

  /** Wipes the key material. */
  close(): void {
    this.#cmac.close();
    this.#k2.fill(0);
  }
}
