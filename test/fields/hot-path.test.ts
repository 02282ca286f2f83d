// The apply hot path (line batches instead of readline, records processed without a promise,
// reused buffers for plaintext/AAD/payload, stringify without a replacer) must agree with the
// simple path it sits next to and with the value format of docs/fields.md.
import { createDecipheriv } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FieldProtector, parseFieldPolicy, runFields } from "../../src/fields/index.js";
import { lineBatches, readJsonl, stringifyRecord } from "../../src/fields/formats/index.js";
import { encodePlain, encodePlainInto } from "../../src/fields/value-format.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { prng } from "./helpers.js";

const { ks } = await freshKeystore(["pii"]);
const dir = tempDir();

async function readlineLines(text: Buffer, chunk: number): Promise<string[]> {
  const out: string[] = [];
  for await (const item of readJsonl(Readable.from(chunks(text, chunk)))) out.push(item.error ? `E${item.row}` : `R${item.row}:${JSON.stringify(item.record)}`);
  return out;
}
async function batchedLines(text: Buffer, chunk: number): Promise<string[]> {
  const out: string[] = [];
  let row = 0;
  for await (const lines of lineBatches(chunks(text, chunk))) {
    for (const l of lines) {
      row++;
      if (l.trim() === "") continue;
      try {
        const v = JSON.parse(l);
        out.push(typeof v === "object" && v !== null && !Array.isArray(v) ? `R${row}:${JSON.stringify(v)}` : `E${row}`);
      } catch {
        out.push(`E${row}`);
      }
    }
  }
  return out;
}
function* chunks(b: Buffer, n: number): Generator<Buffer> {
  for (let o = 0; o < b.length; o += n) yield b.subarray(o, o + n);
}

describe("lineBatches splits lines exactly like readline (crlfDelay: Infinity)", () => {
  const inputs = [
    '{"a":1}\n{"a":2}\n',
    '{"a":1}\r\n{"a":2}\r\n\r\n{"a":3}',
    '{"a":1}\r{"a":2}\r\r\n{"a":"é😀"}\n\n  \nnot json\n[1]\n',
    '\n\r\n\r{"x":"\\r\\n"}\r',
    '{"a":"ü"}',
    "",
    "\r",
  ];
  for (const [k, text] of inputs.entries()) {
    it(`input ${k}, every chunk size`, async () => {
      const b = Buffer.from(text, "utf8");
      const expected = await readlineLines(b, Math.max(1, b.length));
      for (let c = 1; c <= Math.max(1, b.length); c++) expect(await batchedLines(b, c)).toEqual(expected);
    });
  }
});

describe("encodePlainInto writes the bytes encodePlain returns, or declines", () => {
  it("strings that fit (ASCII, multi-byte); declines what does not fit, non-strings and lone surrogates", () => {
    const scratch = Buffer.alloc(64);
    for (const v of ["", "x", "123456789", "é😀 ünïcödé", "a".repeat(21), "😀".repeat(10)]) {
      const length = encodePlainInto(v, scratch);
      expect(length).toBeGreaterThan(0);
      expect(scratch.subarray(0, length).equals(encodePlain(v, {}))).toBe(true);
    }
    for (const v of ["a".repeat(22), "😀".repeat(40), 0, -1.5, true, 12345678901234567890n, "\ud800", "a\udc00b"]) expect(encodePlainInto(v, scratch)).toBe(-1);
    expect(() => encodePlain("\ud800", { row: 3, field: "f" })).toThrow(/surrogate/);
  });
});

describe("stringifyRecord", () => {
  it("equals JSON.stringify with the bigint replacer", () => {
    expect(stringifyRecord({ a: 1, b: "x", c: [1, { d: null }] })).toBe(JSON.stringify({ a: 1, b: "x", c: [1, { d: null }] }));
    expect(stringifyRecord({ a: 5n, b: 2n ** 70n, c: [-3n] })).toBe('{"a":5,"b":"1180591620717411303424","c":[-3]}');
  });
});

/** An independent decoder for `pse1:e:` values, straight from docs/fields.md. */
function openPer(doc: { key: Buffer; keyRef: string; version: number }, value: string, fieldPath: string, recordId: string): Buffer {
  const m = /^pse1:e:([^:]+):(\d+):([A-Za-z0-9_-]+)$/.exec(value)!;
  expect(m[1]).toBe(doc.keyRef);
  expect(Number(m[2])).toBe(doc.version);
  const payload = Buffer.from(m[3]!, "base64url");
  const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const p = Buffer.from(fieldPath, "utf8");
  const r = Buffer.from(recordId, "utf8");
  const aad = Buffer.concat([Buffer.from(`pse1:e:${doc.keyRef}:`, "utf8"), u32(doc.version), u32(p.length), p, u32(r.length), r]);
  const d = createDecipheriv("aes-256-gcm", doc.key, payload.subarray(0, 12));
  d.setAAD(aad);
  d.setAuthTag(payload.subarray(payload.length - 16));
  return Buffer.concat([d.update(payload.subarray(12, payload.length - 16)), d.final()]);
}

describe("randomized values from the hot path and from the general path", () => {
  const rnd = prng(7);
  const records = Array.from({ length: 300 }, (_, i) => ({
    id: i % 7 === 0 ? i : `r${i}`,
    ssn: i % 11 === 0 ? null : String(Math.floor(rnd() * 1e9)),
    note: i % 5 === 0 ? "" : "é😀".repeat(i % 13) + "x".repeat(i % 300),
    n: i % 3 === 0 ? rnd() * 1000 : i % 3 === 1,
    keep: i,
  }));
  const yaml = (extra = "") =>
    `version: 1\nkey: pii\nrecordId: id\nrules:\n  - { field: ssn, action: encrypt }\n  - { field: note, action: encrypt }\n  - { field: n, action: encrypt }\n${extra}`;

  it("decode with the documented AAD and payload, reveal to the input, and count the same stats", async () => {
    const { key, version } = await ks.deriveFieldKey("pii", "primary", "field-encrypt", { operation: "test" });
    const doc = { key, keyRef: "pii", version };
    const input = path.join(dir, "in.jsonl");
    writeFileSync(input, records.map((r) => JSON.stringify(r)).join("\r\n") + "\n\n");
    // hot path: runFields over JSONL with one-segment rules
    const hot = path.join(dir, "hot.jsonl");
    const hotStats = await runFields("apply", { policy: parseFieldPolicy(yaml()), keyring: ks, input, output: hot });
    const hotRecs = readFileSync(hot, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // general path: a nested rule turns the direct plan off; records go through process() one by one
    const general = new FieldProtector(parseFieldPolicy(yaml('  - { field: "deep.x", action: encrypt }\n')), ks, "apply", { flat: false });
    await general.prepare();
    const genRecs = [];
    for (const [i, r] of records.entries()) genRecs.push(await general.process(JSON.parse(JSON.stringify(r)), 2 * i + 1));
    general.close();
    expect(hotStats.values).toEqual(general.stats.values);
    expect(hotStats.empty).toBe(general.stats.empty);
    expect(hotStats.rows).toBe(records.length);
    for (const [i, r] of records.entries()) {
      for (const out of [hotRecs[i], genRecs[i]]) {
        expect(out.keep).toBe(r.keep);
        for (const f of ["ssn", "note", "n"] as const) {
          const v = r[f];
          if (v === null || v === "") {
            expect(out[f]).toBe(v);
            continue;
          }
          expect(openPer(doc, out[f], f, String(r.id)).equals(encodePlain(v, {}))).toBe(true);
        }
      }
    }
    // and the files reveal back to the input
    const back = path.join(dir, "back.jsonl");
    await runFields("reveal", { policy: parseFieldPolicy(yaml()), keyring: ks, input: hot, output: back });
    expect(
      readFileSync(back, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual(records);
  });

  it("row numbers of bad lines (CRLF, blank lines) and skip counts match the readline reader", async () => {
    const input = path.join(dir, "bad.jsonl");
    writeFileSync(input, '{"id":"a","ssn":"1"}\r\n\r\nnot json\r\n{"id":"b","ssn":{"x":1}}\n[2]\n{"id":"c","ssn":"3"}\n{"id":"d","ssn":"\\ud800"}');
    const stats = await runFields("apply", { policy: parseFieldPolicy(yaml()), keyring: ks, input, output: path.join(dir, "bad.out.jsonl"), onError: "skip" });
    expect(stats.errors.map((e) => e.row)).toEqual([3, 4, 5, 7]);
    expect(stats.errors[3]!.message).toMatch(/surrogate/);
    expect(stats.rows).toBe(2);
    await expect(runFields("apply", { policy: parseFieldPolicy(yaml()), keyring: ks, input, output: path.join(dir, "bad2.jsonl") })).rejects.toMatchObject({
      row: 3,
    });
  });
});
