import { createCipheriv } from "node:crypto";

/**
 * AES-CMAC (RFC 4493; NIST SP 800-38B) over AES-128/192/256 from OpenSSL's AES-ECB and
 * AES-CBC (node:crypto has no CMAC). Used by AES-SIV's S2V (RFC 5297 §2.4).
 * Checked against Wycheproof `aes_cmac_test.json` and the RFC 4493 §4 examples.
 */
export const BLOCK = 16;

function cipherName(key: Uint8Array, mode: "ecb" | "cbc" | "ctr"): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError("an AES key must be 16, 24 or 32 bytes");
  return `aes-${key.length * 8}-${mode}`;
}

/** AES encryption of one block (the raw block cipher). */
export function aesBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv(cipherName(key, "ecb"), key, null);
  c.setAutoPadding(false);
  return c.update(block);
}

/** dbl(S): multiplication by x in GF(2^128) (RFC 5297 §2.3; RFC 4493 §2.3 "Generate_Subkey"). */
export function dbl(s: Uint8Array): Buffer {
  const out = Buffer.alloc(BLOCK);
  let carry = 0;
  for (let i = BLOCK - 1; i >= 0; i--) {
    const b = s[i];
    out[i] = ((b << 1) | carry) & 0xff;
    carry = b >>> 7;
  }
  if (carry) out[BLOCK - 1] ^= 0x87; // R_128 = 0^120 || 10000111
  return out;
}

/** Precomputed CMAC state for one key: reusable for many messages. */
export class Cmac {
  readonly #key: Buffer;
  readonly #k1: Buffer;
  readonly #k2: Buffer;
  readonly #cbc: string;

  constructor(key: Uint8Array) {
    this.#cbc = cipherName(key, "cbc");
    this.#key = Buffer.from(key);
    // RFC 4493 §2.3: L = AES-K(0^128); K1 = dbl(L); K2 = dbl(K1)
    const l = aesBlock(this.#key, Buffer.alloc(BLOCK));
    this.#k1 = dbl(l);
    this.#k2 = dbl(this.#k1);
    l.fill(0);
  }

  /** CMAC(K, M) → 16-byte tag (RFC 4493 §2.4). */
  mac(message: Uint8Array): Buffer {
    const n = Math.max(1, Math.ceil(message.length / BLOCK));
    const complete = message.length > 0 && message.length % BLOCK === 0;
    const buf = Buffer.alloc(n * BLOCK);
    buf.set(message);
    const last = (n - 1) * BLOCK;
    if (!complete) buf[message.length] = 0x80; // padding 10^i (§2.4 step 4)
    const sub = complete ? this.#k1 : this.#k2;
    for (let i = 0; i < BLOCK; i++) buf[last + i] ^= sub[i];
    // CBC-MAC with a zero IV: the last ciphertext block is the tag (§2.4 steps 5-6)
    const c = createCipheriv(this.#cbc, this.#key, Buffer.alloc(BLOCK));
    c.setAutoPadding(false);
    const out = c.update(buf);
    const tag = Buffer.from(out.subarray(out.length - BLOCK));
    out.fill(0);
    buf.fill(0);
    return tag;
  }

  /** Wipes the key and sub-keys. */
  close(): void {
    this.#key.fill(0);
    this.#k1.fill(0);
    this.#k2.fill(0);
  }
}

/** One-shot AES-CMAC. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  const m = new Cmac(key);
  try {
    return m.mac(message);
  } finally {
    m.close();
  }
}

export { cipherName as aesCipherName };
