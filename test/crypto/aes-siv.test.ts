import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AesSiv } from "../../src/crypto/aes-siv.js";
import { aesCmac } from "../../src/crypto/cmac.js";
import { DecryptError } from "../../src/errors.js";

const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/wycheproof/${name}`, import.meta.url), "utf8"));
const hex = (s: string) => Buffer.from(s, "hex");

describe("AES-CMAC: Wycheproof aes_cmac_test.json", () => {
  const file = load("aes_cmac_test.json");
  let ran = 0;
  for (const g of file.testGroups) {
    it(`key ${g.keySize} bits, tag ${g.tagSize} bits`, () => {
      for (const t of g.tests) {
        const key = hex(t.key);
        if (![16, 24, 32].includes(key.length)) {
          expect(t.result, `tc ${t.tcId}`).toBe("invalid");
          expect(() => aesCmac(key, hex(t.msg))).toThrow(RangeError);
          continue;
        }
        const tag = aesCmac(key, hex(t.msg)).subarray(0, g.tagSize / 8);
        expect(tag.equals(hex(t.tag)), `tc ${t.tcId}`).toBe(t.result === "valid");
        ran++;
      }
    });
  }
  it("ran the vectors", () => expect(ran).toBeGreaterThan(200));
});

describe("AES-CMAC: RFC 4493 §4 examples", () => {
  const k = hex("2b7e151628aed2a6abf7158809cf4f3c");
  const m = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  it.each([
    [0, "bb1d6929e95937287fa37d129b756746"],
    [16, "070a16b46b4d4144f79bdd9dd04a287c"],
    [40, "dfa66747de9ae63030ca32611497c827"],
    [64, "51f0bebf7e3b9d92fc49741779363cfe"],
  ])("Mlen %i", (len, tag) => expect(aesCmac(k, m.subarray(0, len)).toString("hex")).toBe(tag));
});

describe("AES-SIV: RFC 5297 appendix A", () => {
  it("A.1 deterministic authenticated encryption", () => {
    const siv = new AesSiv(hex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
    const ad = [hex("101112131415161718191a1b1c1d1e1f2021222324252627")];
    const ct = siv.seal(hex("112233445566778899aabbccddee"), ad);
    expect(ct.toString("hex")).toBe("85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c");
    expect(siv.open(ct, ad).toString("hex")).toBe("112233445566778899aabbccddee");
  });
  it("A.2 nonce-based authenticated encryption (three AD strings)", () => {
    const siv = new AesSiv(hex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f"));
    const ad = [
      hex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100"),
      hex("102030405060708090a0"),
      hex("09f911029d74e35bd84156c5635688c0"),
    ];
    const pt = hex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e67205349562d414553");
    const ct = siv.seal(pt, ad);
    expect(ct.toString("hex")).toBe(
      "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d",
    );
    expect(siv.open(ct, ad).equals(pt)).toBe(true);
  });
});

describe("AES-SIV: Wycheproof aes_siv_cmac_test.json", () => {
  const file = load("aes_siv_cmac_test.json");
  let ran = 0;
  for (const g of file.testGroups) {
    it(`key ${g.keySize} bits`, () => {
      for (const t of g.tests) {
        const key = hex(t.key);
        if (![32, 48, 64].includes(key.length)) {
          expect(() => new AesSiv(key)).toThrow(RangeError);
          continue;
        }
        const siv = new AesSiv(key);
        const ad = [hex(t.aad)];
        if (t.result === "valid") {
          expect(siv.seal(hex(t.msg), ad).toString("hex"), `tc ${t.tcId}`).toBe(t.ct);
          expect(siv.open(hex(t.ct), ad).toString("hex"), `tc ${t.tcId}`).toBe(t.msg);
        } else {
          expect(() => siv.open(hex(t.ct), ad), `tc ${t.tcId}`).toThrow(DecryptError);
        }
        ran++;
      }
    });
  }
  it("ran the vectors", () => expect(ran).toBeGreaterThan(100));
  it("byte-by-byte tampering and wrong AD fail", () => {
    const siv = new AesSiv(Buffer.alloc(64, 1));
    const ct = siv.seal(Buffer.from("hello field"), [Buffer.from("a.b")]);
    for (let i = 0; i < ct.length; i++) {
      const bad = Buffer.from(ct);
      bad[i]! ^= 1;
      expect(() => siv.open(bad, [Buffer.from("a.b")])).toThrow(DecryptError);
    }
    expect(() => siv.open(ct, [Buffer.from("a.c")])).toThrow(DecryptError);
    expect(() => siv.open(ct.subarray(0, 15))).toThrow(DecryptError);
  });
});
