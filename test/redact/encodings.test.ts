import { describe, expect, test } from "vitest";
import { detectAll } from "../../src/redact/index.js";
import { decodeJsonEscapes, decodeUrlEscapes, decodedBase64Runs } from "../../src/redact/encodings.js";

const at = (text: string) => detectAll(text).map((f) => [f.detector, text.slice(f.start, f.end)]);

describe("detectors see through encodings", () => {
  test('JSON escapes: \\" around a value and \\u0040 inside one map back to the raw span', () => {
    const text = String.raw`{"msg":"user \"bob@example.org\" said","x":"ann\u0040example.com","y":"sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34\/"}`;
    expect(at(text)).toEqual([
      ["email", "bob@example.org"],
      ["email", String.raw`ann\u0040example.com`],
      ["openai-key", "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34"],
    ]);
  });

  test("URL encoding", () => {
    const text = "GET /reset?email=carol%40example.net&next=%2Fhome";
    expect(at(text)).toEqual([["email", "carol%40example.net"]]);
  });

  test("base64 of a secret: the whole base64 run is the finding", () => {
    const b64 = Buffer.from("postgres://svc:Pa55w0rdXyZ@db:5432/x").toString("base64");
    const text = `blob=${b64} next`;
    const found = detectAll(text);
    expect(found).toHaveLength(1);
    expect(text.slice(found[0]!.start, found[0]!.end)).toBe(b64);
    expect(found[0]!.detector).toBe("connection-string-password");
    expect(found[0]!.explanation).toMatch(/^base64 of/);
  });

  test("base64url of an e-mail", () => {
    const b64 = Buffer.from('{"email":"dmitri@example.org"}').toString("base64url");
    expect(at(`token ${b64}`)).toEqual([["email", b64]]);
  });

  test("binary base64 (images, random bytes, hashes) is not decoded into findings", () => {
    const img = "data:image/png;base64," + Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 255)).toString("base64");
    expect(decodedBase64Runs(img)).toEqual([]);
    expect(detectAll(img)).toEqual([]);
  });

  test("encodings can be switched off", () => {
    expect(detectAll("carol%40example.net", undefined, { encodings: false })).toEqual([]);
  });

  test("decoders keep an offset map", () => {
    const j = decodeJsonEscapes(String.raw`a\u0040b\"c`);
    expect(j.text).toBe('a@b"c');
    expect([...j.map]).toEqual([0, 1, 7, 8, 10, 11]);
    const u = decodeUrlEscapes("a%40b");
    expect(u.text).toBe("a@b");
    expect([...u.map]).toEqual([0, 1, 4, 5]);
  });
});
