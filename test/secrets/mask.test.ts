import { describe, expect, it } from "vitest";
import { StreamMasker, maskPatterns, type MaskPattern } from "../../src/secrets/index.js";
import { prng } from "../helpers/prng.js";

/** The simple reference: whole-buffer, leftmost-longest replacement. */
function reference(input: Buffer, patterns: readonly MaskPattern[]): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (let i = 0; i < input.length;) {
    let best: MaskPattern | undefined;
    for (const p of patterns) if (input.subarray(i, i + p.bytes.length).equals(p.bytes) && (!best || p.bytes.length > best.bytes.length)) best = p;
    if (best) {
      parts.push(input.subarray(pos, i), best.replacement);
      i += best.bytes.length;
      pos = i;
    } else i++;
  }
  parts.push(input.subarray(pos));
  return Buffer.concat(parts);
}

function streamed(input: Buffer, patterns: readonly MaskPattern[], cuts: number[]): Buffer {
  const m = new StreamMasker(patterns.map((p) => ({ bytes: Buffer.from(p.bytes), replacement: p.replacement })));
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    out.push(m.write(Buffer.from(input.subarray(prev, c))));
    prev = c;
  }
  out.push(m.end());
  return Buffer.concat(out);
}

const SECRET = Buffer.from("hf_Xy7Qk2LmN9pR4sT6vW8zA1bC3dE5");

describe("StreamMasker", () => {
  it("masks a secret split across two writes at every possible cut", () => {
    const patterns = maskPatterns("hf/read", SECRET);
    const text = Buffer.from(`token=${SECRET.toString()} and again ${SECRET.toString()}!\n`);
    for (let cut = 0; cut <= text.length; cut++) {
      const out = streamed(text, patterns, [cut]).toString();
      expect(out).toBe("token=[SECRET:hf/read] and again [SECRET:hf/read]!\n");
    }
  });

  it("masks base64 (padded, unpadded, inside a larger blob at any alignment), base64url, URL- and JSON-escaped forms", () => {
    const value = Buffer.from('p@ss/wörd "quoted" + more?&=');
    const patterns = maskPatterns("db/pass", value);
    for (const prefix of ["", "u", "us", "use"]) {
      const blob = Buffer.concat([Buffer.from(prefix + ":"), value, Buffer.from(":tail")]).toString("base64");
      const out = streamed(Buffer.from(`Authorization: Basic ${blob}\n`), patterns, [20]).toString();
      expect(out).toContain("[SECRET:db/pass]");
      const inner = value.toString("base64").slice(4, -4);
      expect(out).not.toContain(inner.slice(0, 12));
    }
    for (const form of [
      value.toString("base64"),
      value.toString("base64url"),
      encodeURIComponent(value.toString()),
      JSON.stringify(value.toString()).slice(1, -1),
      JSON.stringify(value.toString()).slice(1, -1).replace("ö", "\\u00f6"),
    ]) {
      expect(streamed(Buffer.from(`x ${form} y`), patterns, [5]).toString()).toBe("x [SECRET:db/pass] y");
    }
  });

  it("releases output that cannot start a secret at once (prompts are not held back)", () => {
    const m = new StreamMasker(maskPatterns("a/b", SECRET));
    expect(m.write(Buffer.from("Password: ")).toString()).toBe("Password: ");
    expect(m.write(Buffer.from("hf_Xy7")).toString()).toBe(""); // could be the start of the secret
    expect(m.write(Buffer.from("zz\n")).toString()).toBe("hf_Xy7zz\n");
  });

  it("agrees with the reference on random inputs and random chunkings", () => {
    const rnd = prng(15);
    const secrets = [Buffer.from("abcabd"), Buffer.from("abcabdabc"), Buffer.from("bca"), Buffer.from("zzzzzzzz")];
    const patterns = secrets.map((s, i) => ({ bytes: s, replacement: Buffer.from(`[S${i}]`) }));
    for (let round = 0; round < 400; round++) {
      const n = Math.floor(rnd() * 120);
      const bytes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bytes[i] = "abcdz"[Math.floor(rnd() * 5)]!.charCodeAt(0);
      const cuts = [...new Set(Array.from({ length: Math.floor(rnd() * 8) }, () => Math.floor(rnd() * (n + 1))))].sort((a, b) => a - b);
      expect(streamed(bytes, patterns, cuts).toString()).toBe(reference(bytes, patterns).toString());
    }
  });

  it("wipes the chunks it was given once they are masked", () => {
    const m = new StreamMasker(maskPatterns("a/b", SECRET));
    const chunk = Buffer.from(`x${SECRET.toString()}y`);
    m.write(chunk);
    expect(chunk.every((b) => b === 0)).toBe(true);
  });
});
