/** The JSON-lines splitter under the audit export client: any chunking gives the same lines; bad UTF-8 and a cut line are errors. */
import { describe, expect, it } from "vitest";
import { splitLines } from "../../src/client/lines.js";
import { prng } from "../helpers/prng.js";

async function collect(chunks: Uint8Array[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of splitLines(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push(l);
  return out;
}

const text = ['{"principal":"dé ja vu ✓ 𝄞"}\n', '{"object":"日本語/パス"}\n', "\n", '{"a":1}\n'];
const bytes = Buffer.from(text.join(""), "utf8");

describe("splitLines", () => {
  it("gives the same lines for every way of cutting the bytes, byte by byte included", async () => {
    expect(await collect([bytes])).toEqual(text);
    expect(await collect([...bytes].map((b) => Uint8Array.of(b)))).toEqual(text);
    const rnd = prng(7);
    for (let round = 0; round < 200; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = 1 + Math.floor(rnd() * 9);
        chunks.push(bytes.subarray(at, at + n));
        at += n;
      }
      expect(await collect(chunks)).toEqual(text);
    }
  });

  it("refuses invalid UTF-8 and a stream that ends inside a line", async () => {
    await expect(collect([Buffer.from('{"a":"\xff"}\n', "latin1")])).rejects.toThrow(TypeError);
    await expect(collect([Buffer.from('{"a":1}\n{"b"', "utf8")])).rejects.toThrow(/inside a line/);
    await expect(collect([Buffer.from([0xe2, 0x9c])])).rejects.toThrow();
  });
});
