import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeHeader, encodeFixedPart, encodeKeyBlock, headerLength, LIMITS, MAGIC } from "../../src/envelope/header.js";
import { FormatError, PipesealError } from "../../src/errors.js";

const floeHeader = Buffer.concat([Buffer.from("00000000004000000020", "hex"), randomBytes(64)]);
const good = Buffer.concat([
  encodeFixedPart(64, { a: "b" }),
  encodeKeyBlock([{ keyring: "local", keyName: "k", keyVersion: 1, wrapped: randomBytes(60), tag: randomBytes(32) }]),
  floeHeader,
]);
const goodV1 = Buffer.concat([
  encodeFixedPart(64, { a: "b" }, 1),
  encodeKeyBlock([{ keyring: "local", keyName: "k", keyVersion: 1, wrapped: randomBytes(60) }], 1),
  floeHeader,
]);

describe("hostile headers", () => {
  it("parses the well-formed header", () => {
    const h = decodeHeader(good);
    expect(h.context).toEqual({ a: "b" });
    expect(h.wrappedKeys[0]).toMatchObject({ keyring: "local", keyName: "k", keyVersion: 1 });
    expect(h.length).toBe(good.length);
    expect(h.formatVersion).toBe(2);
    expect(h.wrappedKeys[0]!.binding).toMatchObject({ index: 0 });
  });

  it("parses a v1 header (read compatibility) and refuses a v1 key block read as v2, or a v2 one read as v1", () => {
    const h = decodeHeader(goodV1);
    expect(h.formatVersion).toBe(1);
    expect(h.wrappedKeys[0]!.binding).toBeUndefined();
    expect(h.objectId.equals(decodeHeader(good).objectId)).toBe(true); // the version byte is outside the object id (stable across --upgrade)
    const asV2 = Buffer.from(goodV1);
    asV2[5] = 2; // no tags where v2 expects them
    expect(() => decodeHeader(asV2)).toThrow(expect.objectContaining({ code: "MALFORMED_HEADER" }));
    const asV1 = Buffer.from(good);
    asV1[5] = 1; // 32 bytes left over
    expect(() => decodeHeader(asV1)).toThrow(expect.objectContaining({ code: "MALFORMED_HEADER" }));
  });

  it("a v2 key block refuses an entry without its tag", () => {
    expect(() => encodeKeyBlock([{ keyring: "local", keyName: "k", keyVersion: 1, wrapped: randomBytes(60) }])).toThrow(
      expect.objectContaining({ code: "MALFORMED_HEADER" }),
    );
  });

  it("refuses a bad magic, an unknown version and huge length fields before allocating", () => {
    const bad = (patch: (b: Buffer) => void, code: string) => {
      const b = Buffer.from(good);
      patch(b);
      expect(() => decodeHeader(b)).toThrow(expect.objectContaining({ code }));
    };
    bad((b) => b.write("XSEAL", 0, "latin1"), "NOT_SEALED");
    bad((b) => b.writeUInt8(3, 5), "UNSUPPORTED_FORMAT");
    bad((b) => b.writeUInt8(0, 5), "UNSUPPORTED_FORMAT");
    bad((b) => b.writeUInt32BE(0xffffffff, 6), "MALFORMED_HEADER");
    bad((b) => b.writeUInt32BE(LIMITS.maxFixedPart + 1, 6), "MALFORMED_HEADER");
    const fixedLen = good.readUInt32BE(6);
    bad((b) => b.writeUInt32BE(0xffffffff, fixedLen), "MALFORMED_HEADER");
    bad((b) => b.writeUInt8(200, fixedLen + 4), "MALFORMED_HEADER"); // wrapped-key count
    bad((b) => b.writeUInt32BE(16, 12), "LIMIT_EXCEEDED"); // segment length below the minimum
    bad((b) => b.writeUInt16BE(0xffff, 20), "MALFORMED_HEADER"); // context pair count
  });

  it("never throws anything but a typed FormatError on random or mutated bytes", () => {
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(good);
      for (let j = 0; j < 1 + (i % 4); j++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      try {
        decodeHeader(i % 10 === 0 ? Buffer.concat([MAGIC, Buffer.of(1), randomBytes(i % 300)]) : b);
      } catch (e) {
        expect(e).toBeInstanceOf(PipesealError);
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });

  it("reports the total header length from the prefix alone", () => {
    expect(headerLength(good)).toBe(good.length);
  });

  it("enforces limits when writing too", () => {
    const many = Array.from({ length: LIMITS.maxWrappedKeys + 1 }, () => ({ keyring: "local", keyName: "k", keyVersion: 1, wrapped: randomBytes(60) }));
    expect(() => encodeKeyBlock(many)).toThrow(expect.objectContaining({ code: "LIMIT_EXCEEDED" }));
    expect(() => encodeFixedPart(10, {})).toThrow(expect.objectContaining({ code: "LIMIT_EXCEEDED" }));
  });
});
