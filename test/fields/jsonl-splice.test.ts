// The JSONL splice (formats/jsonl-scan.ts, jsonl-splice.ts) against its reference: parse →
// processNow → stringify. The scanner may only accept lines that stringify(parse(line))
// reproduces, with the right member spans; the splice must give the general path's output
// (random IVs aside), stats and errors.
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FieldProtector, parseFieldPolicy, runFields } from "../../src/fields/index.js";
import { parseRec, stringifyRecord } from "../../src/fields/formats/index.js";
import { LineScan, NULL, STRING, scanCanonical } from "../../src/fields/formats/jsonl-scan.js";
import { freshKeystore, tempDir } from "../helpers/keystore.js";
import { prng } from "./helpers.js";

const N = Number(process.env.FIELDS_PROPERTY_N ?? 20000);
const rnd = prng(11);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const STRINGS = [
  "",
  "x",
  "123456789",
  "a b",
  'q"uote',
  "back\\slash",
  "tab\there",
  "nl\n",
  "\u0001",
  "é😀",
  "\u2028",
  "\ud800",
  "a\udc00",
  "/slash",
  "{}[],:",
  "\u007f",
];
const NUMBERS = [0, -0, 1, -1, 42, 1.5, -2.25, 1e21, 1e-7, 123456789012345, 2 ** 53 + 2, 0.1 + 0.2, 5e-324];
const KEYS = ["id", "ssn", "card", "a", "b c", "é", "0", "12", "__proto__", "", 'x"y', "k\\", "n1", "1n"];

function value(depth: number): unknown {
  const r = rnd();
  if (r < 0.4) return pick(STRINGS);
  if (r < 0.6) return pick(NUMBERS);
  if (r < 0.7) return pick([true, false, null]);
  if (depth > 2) return "leaf";
  if (r < 0.85) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
  return object(depth + 1);
}
function object(depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(rnd() * 6); i > 0; i--)
    Object.defineProperty(o, pick(KEYS), { value: value(depth), enumerable: true, writable: true, configurable: true });
  return o;
}
/** Ways to write the same (or almost the same) JSON that stringify would not. */
function variant(line: string): string {
  switch (Math.floor(rnd() * 9)) {
    case 0:
      return line.replace(/:/, ": ");
    case 1:
      return line.replace(/,/, " ,");
    case 2:
      return " " + line;
    case 3:
      return line.replace(/"([^"\\]*)"/, '"$1\\u0041"');
    case 4:
      return line.replace(/^\{"([^"\\]+)":([^,}]+)/, '{"$1":$2,"$1":$2'); // duplicate key
    case 5:
      return line.replace(/:(-?\d+)([,}])/, ":$1.0$2");
    case 6:
      return line.slice(0, Math.floor(rnd() * line.length)); // truncated
    case 7:
      return line.replace(/:(-?\d+)([,}])/, ":$1e0$2");
    default: {
      const i = Math.floor(rnd() * line.length);
      return line.slice(0, i) + pick(["{", "}", '"', ",", ":", "[", "]", "\\", "x", "1", " "]) + line.slice(i + 1);
    }
  }
}

describe("scanCanonical accepts only lines stringify(parse(line)) reproduces", () => {
  it(`${N} random objects and variants (FIELDS_PROPERTY_N)`, () => {
    const scan = new LineScan();
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const canonical = JSON.stringify(object(0));
      for (const line of [canonical, variant(canonical), variant(variant(canonical))]) {
        const count = scanCanonical(line, scan);
        if (count < 0) continue;
        accepted++;
        const parsed = JSON.parse(line) as Record<string, unknown>; // throws (fails the test) on invalid JSON
        expect(JSON.stringify(parsed)).toBe(line);
        const keys = Object.keys(parsed);
        expect(count).toBe(keys.length);
        for (let k = 0; k < count; k++) {
          expect(line.slice(scan.keyStart[k], scan.keyEnd[k])).toBe(keys[k]);
          const text = line.slice(scan.valueStart[k], scan.valueEnd[k]);
          expect(JSON.parse(text)).toEqual(parsed[keys[k]!]);
          expect(scan.kind[k] === STRING).toBe(typeof parsed[keys[k]!] === "string");
          expect(scan.kind[k] === NULL).toBe(parsed[keys[k]!] === null);
        }
      }
    }
    expect(accepted).toBeGreaterThan(N / 10); // plain records are taken (these random ones are mostly awkward)
  });

  it("declines each kind of line it must leave to the general path", () => {
    const scan = new LineScan();
    for (const line of [
      '{"a": 1}',
      '{"a":1} ',
      '{"a":"\\n"}',
      '{"a":1,"a":2}',
      '{"1":1}',
      '{"__proto__":1}',
      '{"a":{"b":1}}',
      '{"a":1.0}',
      '{"a":-0}',
      '{"a":1e2}',
      '{"a":01}',
      '{"a":0x1}',
      '{"a":Infinity}',
      '{"a":"\ud800"}',
      '{"a":"\u0001"}',
      '{"a":[1,]}',
      '{"a":tru}',
      "[1]",
      "{",
      '{"a":1',
      '{"":1}',
      "{}x",
    ]) {
      expect(scanCanonical(line, scan), line).toBe(-1);
    }
    expect(scanCanonical("{}", scan)).toBe(0);
    expect(scanCanonical('{"a":[1,[2,"x"],null,true,-1.5,1e+21]}', scan)).toBe(1);
  });
});

describe("the splice agrees with parse → processNow → stringify", () => {
  const yaml = `version: 1\nkey: pii\nrecordId: id\nrules:\n  - { field: ssn, action: encrypt }\n  - { field: card, action: encrypt }\n  - { field: id, action: keep }\n  - { field: gone, action: keep }\n`;
  const mask = (s: string) => s.replace(/pse1:e:pii:1:[A-Za-z0-9_-]+/g, "<sealed>");

  it("same text (IVs aside), stats and revealed values over random records and lines", async () => {
    const { ks } = await freshKeystore(["pii"]);
    const policy = parseFieldPolicy(yaml);
    const splice = new FieldProtector(policy, ks, "apply", { flat: false });
    const general = new FieldProtector(policy, ks, "apply", { flat: false }); // fed only the lines the splice took
    const reveal = new FieldProtector(policy, ks, "reveal", { flat: false });
    await splice.prepare();
    await general.prepare();
    let spliced = 0;
    for (let i = 0; i < N / 4; i++) {
      const rec: Record<string, unknown> = object(0);
      if (rnd() < 0.8) rec.id = rnd() < 0.7 ? `r${i}` : pick([i, -i, 1.5, "", null, true]);
      if (rnd() < 0.8) rec.ssn = rnd() < 0.7 ? String(Math.floor(rnd() * 1e9)) : value(0);
      if (rnd() < 0.5) rec.card = pick(STRINGS);
      const canonical = JSON.stringify(rec);
      const line = rnd() < 0.8 ? canonical : variant(canonical);
      const fast = splice.applyJsonLine(line, i + 1);
      if (fast === undefined) continue; // the caller's general path takes it; the splice left no trace (stats below)
      spliced++;
      const reference = stringifyRecord(await general.process(JSON.parse(line) as Record<string, unknown>, i + 1));
      expect(mask(fast), line).toBe(mask(reference));
      expect(await reveal.process(JSON.parse(fast) as Record<string, unknown>, i + 1)).toEqual(JSON.parse(line));
    }
    expect(spliced).toBeGreaterThan(N / 50);
    expect(splice.stats).toEqual(general.stats);
    for (const p of [splice, general, reveal]) p.close();
  });

  it("several output batches (over 1 MiB): a file (reused batch buffer) and stdout (a new one per batch) get the same lines, which reveal", async () => {
    const { ks } = await freshKeystore(["pii"]);
    const dir = tempDir();
    const policy = parseFieldPolicy(yaml);
    const lines = Array.from({ length: 12000 }, (_, i) =>
      JSON.stringify({ id: `r${i}`, ssn: `${i}-${"x".repeat(i % 40)}`, card: "é".repeat((i % 7) + 1), pad: "p".repeat(60) }),
    );
    const input = path.join(dir, "big.jsonl");
    writeFileSync(input, lines.join("\n") + "\n");
    const file = path.join(dir, "big.out.jsonl");
    await runFields("apply", { policy, keyring: ks, input, output: file });
    const chunks: Buffer[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk); // kept by reference: a reused buffer would show up as repeated lines
        setImmediate(done);
      },
    });
    await runFields("apply", { policy, keyring: ks, input, output: "-", stdout });
    const fromFile = readFileSync(file, "utf8");
    const fromStdout = Buffer.concat(chunks).toString("utf8");
    expect(fromFile.length).toBeGreaterThan(2 << 20);
    expect(chunks.length).toBeGreaterThan(1);
    expect(fromStdout.split("\n").map(mask)).toEqual(fromFile.split("\n").map(mask));
    const back = path.join(dir, "big.back.jsonl");
    await runFields("reveal", { policy, keyring: ks, input: file, output: back });
    expect(readFileSync(back, "utf8")).toBe(lines.join("\n") + "\n");
    const stdin = path.join(dir, "stdout.jsonl");
    writeFileSync(stdin, fromStdout);
    await runFields("reveal", { policy, keyring: ks, input: stdin, output: back });
    expect(readFileSync(back, "utf8")).toBe(lines.join("\n") + "\n");
  });

  it("runFields: spliced and general lines mixed give the reference file and stats", async () => {
    const { ks } = await freshKeystore(["pii"]);
    const dir = tempDir();
    const policy = parseFieldPolicy(yaml);
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const rec = {
        id: i % 9 === 0 ? i : `r${i}`,
        ssn: i % 13 === 0 ? null : i % 17 === 0 ? 123 : String(100000000 + i),
        card: i % 5 === 0 ? "" : "4111 1111",
        n: i % 2 ? [1, "a"] : { deep: true },
      };
      lines.push(i % 4 === 0 ? JSON.stringify(rec, null, 1).replace(/\n/g, "") : JSON.stringify(rec));
    }
    lines.splice(7, 0, "", "not json", '{"id":"x","ssn":{"o":1}}', '{"ssn":"no id"}');
    const input = path.join(dir, "in.jsonl");
    writeFileSync(input, lines.join("\n") + "\n");
    const out = path.join(dir, "out.jsonl");
    const stats = await runFields("apply", { policy, keyring: ks, input, output: out, onError: "skip" });
    const ref = new FieldProtector(policy, ks, "apply", { flat: false });
    await ref.prepare();
    const expected: string[] = [];
    for (const [i, line] of lines.entries()) {
      if (line.trim() === "") continue;
      const item = parseRec(line, i + 1);
      if (item.error) {
        ref.skip(i + 1, item.error);
        continue;
      }
      try {
        expected.push(stringifyRecord(await ref.process(item.record, i + 1)));
      } catch (e) {
        ref.skip(i + 1, e);
      }
    }
    expect(readFileSync(out, "utf8").trim().split("\n").map(mask)).toEqual(expected.map(mask));
    expect(stats).toEqual(ref.stats);
    expect(stats.errors.map((e) => e.row)).toEqual([9, 10, 11]);
    ref.close();
  });
});
