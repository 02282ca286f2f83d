/**
 * The native engine (the addon over the system's OpenSSL) against the reference engine
 * (node:crypto): identical bytes both ways on every FLOE known-answer test, every sealed-file
 * vector, and random segments of every length; the same refusals on every tampering.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FLOE_HEADER_LEN, SEGMENT_OVERHEAD, startDecryption, startEncryption, type FloeParams, type FloeState } from "../../src/crypto/floe.js";
import { nativeOpen, nativeOpenSync, nativeSeal, nativeSealSync, SYNC_BELOW } from "../../src/engine/fast.js";
import { loadStatus } from "../../src/engine/native.js";
import { decryptBatch, encryptBatch } from "../../src/engine/reference.js";
import type { Batch } from "../../src/engine/types.js";
import { DecryptError } from "../../src/errors.js";
import { VECTORS, floeVectors } from "../helpers/vectors.js";
import { prng } from "../helpers/prng.js";

const { addon, reason } = loadStatus();

function paramsFor(name: string): FloeParams {
  if (name.endsWith("_rotation")) return { encSegLen: 40, rotationMask: 2 };
  if (name.startsWith("java_lastSeg")) return { encSegLen: 40 };
  if (name.endsWith("_4K")) return { encSegLen: 4096 };
  if (name.endsWith("_64")) return { encSegLen: 64 };
  throw new Error(`no parameters known for vector ${name}`);
}

/** A FLOE body's segment IVs, as the sealer drew them. */
function ivsOf(body: Buffer, encSegLen: number): Buffer {
  const ivs: Buffer[] = [];
  for (let off = 0; off < body.length; off += encSegLen) ivs.push(body.subarray(off + 4, off + 16));
  return Buffer.concat(ivs);
}

const plainBatch = (state: FloeState, data: Buffer, first: number, final: boolean): Batch => {
  const plain = state.encSegLen - SEGMENT_OVERHEAD;
  return { data, first, count: final ? Math.max(1, Math.ceil(data.length / plain)) : data.length / plain, final };
};
const sealedBatch = (state: FloeState, data: Buffer, first: number, final: boolean): Batch => ({
  data,
  first,
  count: final ? Math.max(1, Math.ceil(data.length / state.encSegLen)) : data.length / state.encSegLen,
  final,
});

if (!addon) {
  describe("native engine", () => {
    it("is absent here, so the reference engine runs and says why", () => {
      expect(process.env.PIPESEAL_REQUIRE_NATIVE).not.toBe("1"); // CI builds the addon: its absence there is a failure
      expect(reason).toMatch(/PIPESEAL_ENGINE=reference|not built|did not load/);
    });
  });
} else {
  const KEY = Buffer.alloc(32);
  const AAD = Buffer.from("This is AAD");

  describe("native engine = reference engine on the FLOE known-answer tests", () => {
    const vectors = floeVectors();
    it("has all 17", () => expect(vectors.length).toBe(17));
    for (const v of vectors) {
      it(`${v.name}: both open it, both re-seal it to the same bytes, sync and on the thread pool`, async () => {
        const params = paramsFor(v.name);
        const state = startDecryption(KEY, AAD, params, v.ciphertext.subarray(0, FLOE_HEADER_LEN));
        const body = Buffer.from(v.ciphertext.subarray(FLOE_HEADER_LEN));
        const ivs = ivsOf(body, params.encSegLen);
        const all = sealedBatch(state, body, 0, true);
        expect(nativeOpenSync(addon, state, all).equals(v.plaintext)).toBe(true);
        expect(decryptBatch(state, all).equals(v.plaintext)).toBe(true);
        const pts = { data: v.plaintext, first: 0, count: all.count, final: true }; // the count the sealer chose (java_lastSegEmpty ends with an empty final segment)
        expect(nativeSealSync(addon, state, pts, ivs).equals(body)).toBe(true);
        expect(encryptBatch(state, pts, ivs).equals(body)).toBe(true);
        // the thread-pool path, forced by calling the addon directly (the vectors are small)
        const out = Buffer.alloc(v.plaintext.length);
        expect(await addon.open(state.messageKey, state.iv, state.aad, state.encSegLen, state.rotationMask, 0, all.count, true, body, out)).toBe(
          v.plaintext.length,
        );
        expect(out.equals(v.plaintext)).toBe(true);
        // segment by segment: every position on its own
        for (let i = 0; i < all.count; i++) {
          const seg = body.subarray(i * params.encSegLen, (i + 1) * params.encSegLen);
          const last = i === all.count - 1;
          expect(
            nativeOpenSync(addon, state, { data: seg, first: i, count: 1, final: last }).equals(
              decryptBatch(state, { data: seg, first: i, count: 1, final: last }),
            ),
          ).toBe(true);
        }
      });
    }
  });

  describe("native engine = reference engine on the sealed-file vectors", () => {
    const dir = path.join(VECTORS, "sealed");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const v = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
      it(`${v.name}: the body byte for byte, and its plaintext back`, () => {
        const encSegLen: number = v.expected.encSegLen;
        const { state } = startEncryption(
          Buffer.from(v.inputs.dataKey, "hex"),
          Buffer.from(v.expected.fixedPart, "hex"),
          { encSegLen },
          Buffer.from(v.inputs.floeIv, "hex"),
        );
        const ivs = Buffer.concat(v.inputs.segmentIvs.map((h: string) => Buffer.from(h, "hex")));
        const plaintext = Buffer.from(v.inputs.plaintext, "hex");
        const body = Buffer.from(v.expected.body, "hex");
        expect(nativeSealSync(addon, state, plainBatch(state, plaintext, 0, true), ivs).toString("hex")).toBe(v.expected.body);
        expect(nativeOpenSync(addon, state, sealedBatch(state, body, 0, true)).equals(plaintext)).toBe(true);
      });
    }
  });

  describe("random segments of every length, both engines, both ways", () => {
    it("small segments: every final length, batches at several positions, including across key rotations", () => {
      const rnd = prng(19);
      for (const params of [{ encSegLen: 64 }, { encSegLen: 40, rotationMask: 2 }, { encSegLen: 33 }]) {
        const plain = params.encSegLen - SEGMENT_OVERHEAD;
        const { state } = startEncryption(randomBytes(32), randomBytes(Math.floor(rnd() * 64)), params);
        for (let full = 0; full < 6; full++) {
          for (let last = 0; last <= plain; last++) {
            const first = Math.floor(rnd() * 10);
            const data = randomBytes(full * plain + last);
            const count = full + 1;
            const ivs = randomBytes(count * 12);
            if (last === 0 && full > 0 && rnd() < 0.5) continue; // also covered: a final batch that ends on a full segment
            const batch = { data, first, count, final: true };
            const fast = nativeSealSync(addon, state, batch, ivs);
            const ref = encryptBatch(state, batch, ivs);
            expect(fast.equals(ref)).toBe(true);
            expect(decryptBatch(state, { data: fast, first, count, final: true }).equals(data)).toBe(true);
            expect(nativeOpenSync(addon, state, { data: ref, first, count, final: true }).equals(data)).toBe(true);
          }
          // non-final batches: full segments only
          const data = randomBytes((full + 1) * plain);
          const ivs = randomBytes((full + 1) * 12);
          const batch = { data, first: 3, count: full + 1, final: false };
          const fast = nativeSealSync(addon, state, batch, ivs);
          expect(fast.equals(encryptBatch(state, batch, ivs))).toBe(true);
          expect(decryptBatch(state, { ...batch, data: fast }).equals(data)).toBe(true);
        }
      }
    });

    it("64 KiB segments on the thread pool: random lengths, seal fast / open reference and the reverse", async () => {
      const rnd = prng(7);
      const { state } = startEncryption(randomBytes(32), Buffer.from("ctx"), { encSegLen: 65536 + SEGMENT_OVERHEAD });
      for (let i = 0; i < 8; i++) {
        const len = SYNC_BELOW + Math.floor(rnd() * 3 * 65536);
        const data = randomBytes(len);
        const batch = plainBatch(state, data, i * 5, true);
        const ivs = randomBytes(batch.count * 12);
        const fast = await nativeSeal(addon, state, batch, ivs);
        expect(fast.equals(encryptBatch(state, batch, ivs))).toBe(true);
        expect(decryptBatch(state, sealedBatch(state, fast, i * 5, true)).equals(data)).toBe(true);
        const ref = encryptBatch(state, batch);
        expect((await nativeOpen(addon, state, sealedBatch(state, ref, i * 5, true))).equals(data)).toBe(true);
      }
    });
  });

  describe("attacks: the native engine refuses what the reference refuses, and returns no plaintext", () => {
    const { state } = startEncryption(randomBytes(32), Buffer.from("ctx"), { encSegLen: 64 });
    const data = randomBytes(32 * 3 + 7);
    const sealed = encryptBatch(state, plainBatch(state, data, 0, true));
    const both = (batch: Batch) => {
      expect(() => decryptBatch(state, batch)).toThrow(DecryptError);
      expect(() => nativeOpenSync(addon, state, batch)).toThrow(DecryptError);
    };

    it("a flipped bit anywhere (length field, IV, ciphertext, tag)", () => {
      for (let at = 0; at < sealed.length; at += 5) {
        const bad = Buffer.from(sealed);
        bad[at]! ^= 0x10;
        both(sealedBatch(state, bad, 0, true));
      }
    });

    it("a wrong position, a missing final flag, a truncation at a segment boundary, a swap", () => {
      both(sealedBatch(state, sealed, 1, true));
      both({ data: sealed.subarray(0, 64 * 3), first: 0, count: 3, final: true }); // the last full segment is not marked final
      const swapped = Buffer.concat([sealed.subarray(64, 128), sealed.subarray(0, 64), sealed.subarray(128)]);
      both(sealedBatch(state, swapped, 0, true));
      both({ data: Buffer.alloc(0), first: 0, count: 1, final: true }); // no final segment at all
    });

    it("wipes its output when a later segment of the batch fails (no verified prefix leaks)", async () => {
      const bad = Buffer.from(sealed);
      bad[bad.length - 1]! ^= 1; // only the final segment's tag
      const out = Buffer.alloc(data.length);
      expect(() => addon.openSync(state.messageKey, state.iv, state.aad, 64, 20, 0, 4, true, bad, out)).toThrow();
      expect(out.equals(Buffer.alloc(data.length))).toBe(true);
      const out2 = Buffer.alloc(data.length);
      await expect(addon.open(state.messageKey, state.iv, state.aad, 64, 20, 0, 4, true, bad, out2)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      expect(out2.equals(Buffer.alloc(data.length))).toBe(true);
    });

    it("a wrong key or associated data", () => {
      const other = startEncryption(randomBytes(32), Buffer.from("ctx"), { encSegLen: 64 }).state;
      expect(() => nativeOpenSync(addon, other, sealedBatch(other, sealed, 0, true))).toThrow(DecryptError);
      const aad = { ...state, aad: Buffer.from("cty") };
      expect(() => nativeOpenSync(addon, aad, sealedBatch(state, sealed, 0, true))).toThrow(DecryptError);
    });

    it("misuse is a RangeError, never a crash: short output, bad counts, positions past 2^40", () => {
      const k = [state.messageKey, state.iv, state.aad, 64, 20] as const;
      expect(() => addon.openSync(...k, 0, 4, true, sealed, Buffer.alloc(3))).toThrow(RangeError);
      expect(() => addon.sealSync(...k, 0, 2, false, randomBytes(32), Buffer.alloc(1000), randomBytes(24))).toThrow(RangeError);
      expect(() => addon.sealSync(...k, 2 ** 40, 1, true, randomBytes(1), Buffer.alloc(1000), randomBytes(12))).toThrow(RangeError);
      expect(() => addon.sealSync(...k, 2 ** 40 - 1, 1, false, randomBytes(32), Buffer.alloc(1000), randomBytes(12))).toThrow(RangeError);
      expect(() => addon.sealSync(...k, 0, 1, true, randomBytes(1), Buffer.alloc(1000), randomBytes(3))).toThrow(RangeError);
      expect(() => addon.sealSync(Buffer.alloc(3), state.iv, state.aad, 64, 20, 0, 1, true, randomBytes(1), Buffer.alloc(100), randomBytes(12))).toThrow(
        TypeError,
      );
    });
  });
}
