import { describe, expect, it } from "vitest";
import {
  FLOE_HEADER_LEN,
  decryptSegment,
  encryptSegment,
  isFinalSegment,
  startDecryption,
  startEncryption,
  type FloeParams,
  type FloeState,
} from "../../src/crypto/floe.js";
import { DecryptError } from "../../src/errors.js";
import { floeVectors } from "../helpers/vectors.js";

const KEY = Buffer.alloc(32);
const AAD = Buffer.from("This is AAD");

function paramsFor(name: string): FloeParams {
  if (name.endsWith("_rotation")) return { encSegLen: 40, rotationMask: 2 };
  if (name.startsWith("java_lastSeg")) return { encSegLen: 40 };
  if (name.endsWith("_4K")) return { encSegLen: 4096 };
  if (name.endsWith("_64")) return { encSegLen: 64 };
  throw new Error(`no parameters known for vector ${name}`);
}

/** Splits a FLOE body into segments as an online decryptor sees them. */
function segments(body: Buffer, encSegLen: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < body.length; off += encSegLen) out.push(body.subarray(off, off + encSegLen));
  return out;
}

function decryptAll(state: FloeState, body: Buffer): Buffer {
  const segs = segments(body, state.encSegLen);
  const parts = segs.map((seg, i) => decryptSegment(state, seg, i, i === segs.length - 1));
  return Buffer.concat(parts);
}

const vectors = floeVectors();

describe("FLOE known-answer tests (five implementations)", () => {
  it("has every vector pair", () => {
    expect(vectors.length).toBe(17);
  });

  for (const v of vectors) {
    it(`decrypts ${v.name}`, () => {
      const params = paramsFor(v.name);
      const header = v.ciphertext.subarray(0, FLOE_HEADER_LEN);
      const state = startDecryption(KEY, AAD, params, header);
      const body = v.ciphertext.subarray(FLOE_HEADER_LEN);
      expect(isFinalSegment(segments(body, params.encSegLen).at(-1)!)).toBe(true);
      expect(decryptAll(state, body).equals(v.plaintext)).toBe(true);
    });

    it(`re-encrypts ${v.name} with the same FLOE IV to the same header`, () => {
      const params = paramsFor(v.name);
      const iv = v.ciphertext.subarray(10, 42);
      const { state, header } = startEncryption(KEY, AAD, params, iv);
      expect(header.equals(v.ciphertext.subarray(0, FLOE_HEADER_LEN))).toBe(true);
      // segment IVs are random, so check our ciphertext decrypts back through the same state
      const seg = encryptSegment(state, v.plaintext.subarray(0, 0), 0, true);
      expect(decryptSegment(state, seg, 0, true).length).toBe(0);
    });

    it(`rejects ${v.name} under a wrong key, a wrong AAD, or a flipped header tag`, () => {
      const params = paramsFor(v.name);
      const header = Buffer.from(v.ciphertext.subarray(0, FLOE_HEADER_LEN));
      expect(() => startDecryption(Buffer.alloc(32, 1), AAD, params, header)).toThrow(DecryptError);
      expect(() => startDecryption(KEY, Buffer.from("This is AAE"), params, header)).toThrow(DecryptError);
      header[FLOE_HEADER_LEN - 1]! ^= 1;
      expect(() => startDecryption(KEY, AAD, params, header)).toThrow(DecryptError);
    });
  }

  it("detects a segment decrypted at the wrong position or finality", () => {
    const v = vectors.find((x) => x.name === "go_GCM256_IV256_64")!;
    const params = paramsFor(v.name);
    const state = startDecryption(KEY, AAD, params, v.ciphertext.subarray(0, FLOE_HEADER_LEN));
    const segs = segments(v.ciphertext.subarray(FLOE_HEADER_LEN), 64);
    expect(segs.length).toBeGreaterThan(1);
    expect(() => decryptSegment(state, segs[0]!, 1, false)).toThrow(DecryptError);
    expect(() => decryptSegment(state, segs[0]!, 0, true)).toThrow(DecryptError);
  });
});
