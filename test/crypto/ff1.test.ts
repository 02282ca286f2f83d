import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Ff1 } from "../../src/crypto/ff1.js";

interface Sample {
  sample: number;
  key: string;
  radix: number;
  tweak: string;
  pt: string;
  ct: string;
}
const file = JSON.parse(readFileSync(new URL("../vectors/nist-ff1/ff1-samples.json", import.meta.url), "utf8")) as { alphabet: string; samples: Sample[] };
const toNum = (s: string): number[] => [...s].map((c) => file.alphabet.indexOf(c));
const toStr = (x: number[]): string => x.map((d) => file.alphabet[d]).join("");

describe("FF1 (NIST SP 800-38G) samples", () => {
  for (const s of file.samples) {
    it(`sample ${s.sample} (radix ${s.radix}, ${s.key.length * 4}-bit key)`, () => {
      const ff1 = new Ff1(Buffer.from(s.key, "hex"), s.radix);
      const tweak = Buffer.from(s.tweak, "hex");
      expect(toStr(ff1.encrypt(toNum(s.pt), tweak))).toBe(s.ct);
      expect(toStr(ff1.decrypt(toNum(s.ct), tweak))).toBe(s.pt);
    });
  }
});

describe("FF1 domain rules", () => {
  const key = Buffer.alloc(32, 7);
  it("refuses domains below 10^6 (SP 800-38G Rev. 1 §5.2)", () => {
    const ff1 = new Ff1(key, 10);
    expect(ff1.minLength()).toBe(6);
    expect(() => ff1.encrypt([1, 2, 3, 4, 5])).toThrow(RangeError);
    expect(ff1.encrypt([1, 2, 3, 4, 5, 6])).toHaveLength(6);
    expect(new Ff1(key, 62).minLength()).toBe(4);
    expect(new Ff1(key, 36).minLength()).toBe(4);
  });
  it("round-trips random strings of many lengths and radices; tweak changes the output", () => {
    for (const radix of [10, 36, 62]) {
      const ff1 = new Ff1(key, radix);
      for (let n = ff1.minLength(); n < 70; n += 3) {
        const x = Array.from({ length: n }, (_, i) => (i * 7919 + n) % radix);
        const c = ff1.encrypt(x, Buffer.from("t"));
        expect(c).toHaveLength(n);
        expect(ff1.decrypt(c, Buffer.from("t"))).toEqual(x);
        expect(ff1.encrypt(x, Buffer.from("u"))).not.toEqual(c);
      }
    }
  });
  it("rejects out-of-range numerals and bad keys", () => {
    expect(() => new Ff1(key, 10).encrypt([1, 2, 3, 4, 5, 10])).toThrow(RangeError);
    expect(() => new Ff1(Buffer.alloc(15), 10)).toThrow(RangeError);
  });
});
