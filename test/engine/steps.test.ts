/**
 * The pump's seal and open steps on the engine in use (reference-suites.test.ts runs this file
 * again on the reference engine): they write into the pump's recycled buffer, so a long stream
 * leaves no fresh buffer per batch (the reference CLI once peaked at 1.1 GiB on a 1 GiB file),
 * and what they seal opens to the same bytes.
 */
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { SEGMENT_OVERHEAD, startEncryption } from "../../src/crypto/floe.js";
import { openStep, sealStep } from "../../src/engine/steps.js";
import { DecryptError } from "../../src/errors.js";

it("seal and open write into the given output buffer and round-trip, final and not", async () => {
  const { state } = startEncryption(randomBytes(32), Buffer.from("ctx"), { encSegLen: 1024 + SEGMENT_OVERHEAD });
  const seal = sealStep(state, 4);
  const open = openStep(state, 4);
  for (const [length, final] of [
    [4096, false],
    [4096, true],
    [1500, true],
    [0, true],
  ] as const) {
    const plain = randomBytes(length);
    const out = Buffer.alloc(seal.outBytes);
    const sealed = await seal.run(plain, 1, final, out);
    expect(sealed.buffer).toBe(out.buffer);
    const back = Buffer.alloc(open.outBytes);
    const opened = await open.run(Buffer.from(sealed), 1, final, back);
    expect(opened.buffer).toBe(back.buffer);
    expect(opened.equals(plain)).toBe(true);
    await expect(open.run(Buffer.from(sealed), 2, final, back)).rejects.toThrow(DecryptError); // another position
  }
});
