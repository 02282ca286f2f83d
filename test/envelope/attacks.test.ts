import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openBuffer, sealBuffer } from "../../src/envelope/buffer.js";
import { decodeHeader, encodeFixedPart } from "../../src/envelope/header.js";
import { DecryptError, PipesealError } from "../../src/errors.js";
import { freshKeystore } from "../helpers/keystore.js";

const { ks } = await freshKeystore(["k", "other"]);
const SEG = 32; // tiny segments: a 100-byte file has four of them
const ENC = SEG + 32;
const context = { dataset: "customers", stage: "landing" };
const plaintext = randomBytes(100);
const sealed = await sealBuffer(ks, plaintext, { keyName: "k", segmentSize: SEG, context });
const headerLen = decodeHeader(sealed).length;
const body = sealed.subarray(headerLen);
const segs = [0, 1, 2, 3].map((i) => body.subarray(i * ENC, (i + 1) * ENC));

/** Opening must fail with a typed error and release nothing. */
async function expectRejected(bytes: Buffer, code?: string): Promise<void> {
  let released: Buffer | undefined;
  try {
    released = await openBuffer(ks, bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(PipesealError);
    if (code) expect((e as PipesealError).code).toBe(code);
    return;
  }
  expect.fail(`opened a tampered file and released ${released?.length} bytes`);
}

describe("attacks on a sealed file", () => {
  it("sanity: the untouched file opens", async () => {
    expect((await openBuffer(ks, sealed)).equals(plaintext)).toBe(true);
  });

  it("every single-bit flip over the whole file (header and body) is rejected", async () => {
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      await expectRejected(bad);
    }
  }, 300_000);

  it("truncation at and inside every segment boundary is rejected", async () => {
    for (let cut = headerLen; cut < sealed.length; cut++) await expectRejected(sealed.subarray(0, cut));
  });

  it("dropping, duplicating or swapping segments is rejected", async () => {
    const head = sealed.subarray(0, headerLen);
    await expectRejected(Buffer.concat([head, segs[0]!, segs[2]!, segs[3]!]), "DECRYPT_FAILED");
    await expectRejected(Buffer.concat([head, segs[0]!, segs[0]!, segs[1]!, segs[2]!, segs[3]!]), "DECRYPT_FAILED");
    await expectRejected(Buffer.concat([head, segs[1]!, segs[0]!, segs[2]!, segs[3]!]), "DECRYPT_FAILED");
    await expectRejected(Buffer.concat([head, segs[0]!, segs[1]!, segs[2]!]), "DECRYPT_FAILED");
    await expectRejected(Buffer.concat([sealed, segs[3]!]), "DECRYPT_FAILED");
  });

  it("splicing segments or the header from another file under the same key is rejected", async () => {
    const other = await sealBuffer(ks, randomBytes(100), { keyName: "k", segmentSize: SEG, context });
    const otherHead = other.subarray(0, decodeHeader(other).length);
    const otherBody = other.subarray(otherHead.length);
    await expectRejected(Buffer.concat([sealed.subarray(0, headerLen), otherBody.subarray(0, ENC), body.subarray(ENC)]), "DECRYPT_FAILED");
    await expectRejected(Buffer.concat([otherHead, body]), "DECRYPT_FAILED");
    // the other file's key block (its own wrapped data key) with this file's FLOE header: key commitment
    const mine = decodeHeader(sealed);
    const theirs = decodeHeader(other);
    const keyBlock = other.subarray(theirs.fixedPart.length, theirs.length - 74);
    await expectRejected(Buffer.concat([mine.fixedPart, keyBlock, mine.floeHeader, body]), "DECRYPT_FAILED");
  });

  it("a changed context (re-encoded, well-formed) is rejected", async () => {
    const h = decodeHeader(sealed);
    const forged = encodeFixedPart(h.encSegLen, { ...context, stage: "training" });
    await expectRejected(Buffer.concat([forged, sealed.subarray(h.fixedPart.length)]));
  });

  it("a wrong key: the same entry claimed by another key name is rejected", async () => {
    const h = decodeHeader(sealed);
    const block = sealed.subarray(h.fixedPart.length, h.length - 74);
    const swapped = Buffer.from(block.toString("latin1").replace("\x00\x01k", "\x00\x01x"), "latin1");
    await expectRejected(Buffer.concat([h.fixedPart, swapped, h.floeHeader, body]), "KEY_NOT_FOUND");
  });

  it("disabled, destroyed and below-minimum versions are refused", async () => {
    const local = await freshKeystore(["d"]);
    const file = await sealBuffer(local.ks, plaintext, { keyName: "d" });
    local.ks.rotateKey("d");
    local.ks.disableVersion("d", 1);
    await expect(openBuffer(local.ks, file)).rejects.toMatchObject({ code: "KEY_DISABLED" });
    local.ks.enableVersion("d", 1);
    local.ks.setMinDecryptVersion("d", 2);
    await expect(openBuffer(local.ks, file)).rejects.toMatchObject({ code: "KEY_BELOW_MIN_VERSION" });
    local.ks.setMinDecryptVersion("d", 1);
    expect((await openBuffer(local.ks, file)).equals(plaintext)).toBe(true);
    local.ks.destroyVersion("d", 1);
    await expect(openBuffer(local.ks, file)).rejects.toMatchObject({ code: "KEY_DESTROYED" });
  });

  it("authentication failures are opaque: one code and one message whatever the cause", async () => {
    const messages = new Set<string>();
    for (const bad of [Buffer.concat([sealed.subarray(0, headerLen), segs[1]!]), Buffer.concat([sealed, Buffer.of(0)])]) {
      await openBuffer(ks, bad).catch((e: DecryptError) => messages.add(`${e.code}:${e.message}`));
    }
    expect(messages.size).toBe(1);
  });
});
