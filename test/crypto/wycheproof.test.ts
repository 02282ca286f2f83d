import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { gcmOpen, gcmSeal } from "../../src/crypto/aes-gcm.js";
import { hkdfExpand } from "../../src/crypto/hkdf.js";
import { DecryptError } from "../../src/errors.js";
import { hex, wycheproof } from "../helpers/vectors.js";

describe("Wycheproof AES-GCM through gcmOpen (256-bit keys, 96-bit IVs, 128-bit tags)", () => {
  const groups = wycheproof("aes_gcm_test.json").filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128);
  const tests = groups.flatMap((g) => g.tests);

  it("covers the vectors it claims", () => {
    expect(tests.length).toBeGreaterThan(50);
    expect(tests.some((t) => t.result === "invalid")).toBe(true);
  });

  for (const t of tests) {
    it(`tcId ${t.tcId} (${t.result}${t.flags.length ? ": " + t.flags.join(",") : ""})`, () => {
      const sealed = Buffer.concat([hex(t.iv), hex(t.ct), hex(t.tag)]);
      if (t.result === "invalid") {
        expect(() => gcmOpen(hex(t.key), sealed, hex(t.aad))).toThrow(DecryptError);
      } else {
        expect(gcmOpen(hex(t.key), sealed, hex(t.aad)).toString("hex")).toBe(t.msg);
        // and our sealing of the same message opens back
        const again = gcmSeal(hex(t.key), hex(t.msg), hex(t.aad));
        expect(gcmOpen(hex(t.key), again, hex(t.aad)).toString("hex")).toBe(t.msg);
      }
    });
  }
});

describe("Wycheproof HKDF-SHA256 through hkdfExpand (Extract = HMAC, RFC 5869 §2.2)", () => {
  const tests = wycheproof("hkdf_sha256_test.json").flatMap((g) => g.tests);
  it("covers the vectors it claims", () => expect(tests.length).toBeGreaterThan(50));
  for (const t of tests) {
    it(`tcId ${t.tcId} (${t.result})`, () => {
      const salt = hex(t.salt).length ? hex(t.salt) : Buffer.alloc(32);
      const prk = createHmac("sha256", salt).update(hex(t.ikm)).digest();
      if (t.result === "invalid") {
        expect(() => hkdfExpand("sha256", prk, hex(t.info), Number(t.size))).toThrow(RangeError);
      } else {
        expect(hkdfExpand("sha256", prk, hex(t.info), Number(t.size)).toString("hex")).toBe(t.okm);
      }
    });
  }
});
