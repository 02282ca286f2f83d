/**
 * The prefilter (src/redact/prefilter.ts) must never change a result: for any text, detectAll
 * (triggered lines only) equals detectAllReference (every detector over the whole text).
 * Inputs: the committed corpus files whole, random lines from a freshly generated corpus
 * (another seed), the same lines shuffled into multi-line texts, lines mutated character by
 * character, and random noise over an alphabet rich in trigger characters.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { detectAll, detectAllReference } from "../../src/redact/detect.js";
import { builtinDetectors } from "../../src/redact/detectors/index.js";
import { customDetector } from "../../src/redact/custom.js";
import { TRIGGER, scanTriggers } from "../../src/redact/prefilter.js";
import { resolveOverlaps, resolveOverlapsReference } from "../../src/redact/resolve.js";
import type { Finding } from "../../src/redact/types.js";
import { prng as rng } from "../helpers/prng.js";

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (name !== "labels.json") out.push(p);
  }
  return out;
}

const same = (text: string, options = {}): void => {
  const fast = detectAll(text, undefined, options);
  const ref = detectAllReference(text, undefined, options);
  expect(fast, JSON.stringify(text.slice(0, 300))).toEqual(ref);
};

let lines: string[] = [];
const dir = mkdtempSync(path.join(tmpdir(), "pipeseal-prefilter-"));
beforeAll(() => {
  const gen = spawnSync(process.execPath, [path.resolve("test/corpus/generate.mjs"), "--seed", "4242", "--out", dir]);
  expect(gen.status).toBe(0);
  lines = files(dir).flatMap((f) => readFileSync(f, "utf8").split("\n"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("prefilter: detectAll equals the reference path exactly", () => {
  test("committed corpus files, whole", () => {
    for (const f of files(path.resolve("test/corpus/redact"))) same(readFileSync(f, "utf8"));
  });

  test("every generated corpus line on its own", () => {
    expect(lines.length).toBeGreaterThan(1000);
    for (const l of lines) same(l);
  });

  test("random multi-line texts from shuffled corpus lines (also without encodings, with minConfidence 0)", () => {
    const r = rng(1);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(r() * 12);
      const text = Array.from({ length: n }, () => lines[Math.floor(r() * lines.length)]!).join(r() < 0.2 ? "\r\n" : "\n");
      same(text);
      if (t % 5 === 0) same(text, { encodings: false });
      if (t % 7 === 0) same(text, { minConfidence: 0 });
    }
  });

  test("corpus lines mutated character by character", () => {
    const r = rng(2);
    const alphabet = "0123456789 -.:@+/\\%=_\"'(){}\nAZaz;";
    for (let t = 0; t < 1500; t++) {
      const chars = [...lines[Math.floor(r() * lines.length)]!];
      const edits = 1 + Math.floor(r() * 4);
      for (let e = 0; e < edits && chars.length > 0; e++) {
        const at = Math.floor(r() * chars.length);
        const op = r();
        if (op < 0.4) chars[at] = alphabet[Math.floor(r() * alphabet.length)]!;
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[Math.floor(r() * alphabet.length)]!);
      }
      same(chars.join(""));
    }
  });

  test("random noise rich in trigger characters", () => {
    const r = rng(3);
    const pieces = [
      "0",
      "1",
      "2",
      "4",
      "5",
      "9",
      " ",
      "-",
      ".",
      ":",
      "@",
      "+",
      "(",
      ")",
      "/",
      "\\",
      "\\u0040",
      '\\"',
      "%40",
      "%3A",
      "=",
      "\n",
      "a",
      "Z",
      "x",
      "AKIA",
      "ghp_",
      "glpat-",
      "xoxb-",
      "sk-",
      "sk-ant-",
      "hf_",
      "AIza",
      "eyJ",
      "://",
      "k_live_",
      "-----BEGIN PRIVATE KEY-----",
      "-----END PRIVATE KEY-----",
      "key",
      "secret",
      "password",
      "pwd",
      "token",
      "Bearer ",
      "aws",
      "phone",
      "tel",
      "dob",
      "born",
      "ssn",
      "DE",
      "GB",
      "example.org",
      "version ",
      "Server=db;",
      "QUJD",
      "dXNlcjpwYXNzd29yZA",
      '"',
      "'",
      ";",
      "_",
      "İ",
      "é",
      "Ｋey",
      "\u212Aey",
      "\u0131",
      "\u0140",
      "\u0134\u0135\u0133\u0139",
      "😀",
    ];
    for (let t = 0; t < 1500; t++) {
      const n = 5 + Math.floor(r() * 60);
      let s = "";
      for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)]!;
      same(s);
    }
  });

  test("random numbers: Luhn-valid cards of every length and grouping, SSN/phone/IP shapes, digit runs", () => {
    const r = rng(4);
    const int = (n: number): number => Math.floor(r() * n);
    const digits = (n: number): string => Array.from({ length: n }, () => String(int(10))).join("");
    const luhnComplete = (body: string): string => {
      for (let d = 0; d < 10; d++) {
        const s = body + d;
        let sum = 0;
        for (let i = 0; i < s.length; i++) {
          let v = s.charCodeAt(s.length - 1 - i) - 48;
          if (i % 2 === 1) v = v * 2 > 9 ? v * 2 - 9 : v * 2;
          sum += v;
        }
        if (sum % 10 === 0) return s;
      }
      return body + "0";
    };
    const group = (s: string): string => {
      const sep = [" ", "-", ".", "", "  ", "/"][int(6)]!;
      const out: string[] = [];
      for (let i = 0; i < s.length;) {
        const g = 1 + int(6);
        out.push(s.slice(i, i + g));
        i += g;
      }
      return r() < 0.3 ? s : out.join(sep);
    };
    const shapes = [
      () => group(luhnComplete(String(2 + int(5)) + digits(11 + int(7)))),
      () => `${digits(3)}${["-", " ", ""][int(3)]}${digits(2)}${["-", " ", ""][int(3)]}${digits(4)}`,
      () => `${["", "1 ", "1-", "(", "+1 "][int(5)]}${digits(3)}${[")", "-", ".", " ", ") "][int(5)]}${digits(3)}${["-", ".", " "][int(3)]}${digits(4)}`,
      () => Array.from({ length: 3 + int(3) }, () => String(int(300))).join("."),
      () => `+${1 + int(9)}${digits(int(14))}`,
      () => digits(1 + int(20)),
      () => `${["DE", "GB", "FR", "NL"][int(4)]}${digits(2)}${group(digits(10 + int(20)))}`,
    ];
    const glue = ["", " ", "-", ".", ":", "a", "_", "=", "x", "(", " ssn ", " phone: ", " dob ", "/", "@"];
    for (let t = 0; t < 3000; t++) {
      let s = "";
      const n = 1 + int(5);
      for (let i = 0; i < n; i++) s += glue[int(glue.length)]! + shapes[int(shapes.length)]!();
      same(s);
    }
  });

  test("custom detectors (no trigger) run over the whole text, in list order", () => {
    const list = [...builtinDetectors(), customDetector({ id: "emp", label: "EMP", pattern: "EMP-\\d{6}" })];
    const text = "user EMP-123456 bob@example.org\nnothing here\nEMP-654321 card 4539 1488 0343 6467";
    expect(detectAll(text, list)).toEqual(detectAllReference(text, list));
    expect(detectAll(text, list).map((f) => f.detector)).toEqual(["emp", "email", "emp", "credit-card"]);
  });
});

describe("overlap resolution per cluster equals one global ranking", () => {
  test("random findings, few and many, with ties", () => {
    const r = rng(5);
    for (let t = 0; t < 2000; t++) {
      const n = t % 10 === 0 ? 100 + Math.floor(r() * 200) : Math.floor(r() * 12);
      const fs: Finding[] = Array.from({ length: n }, (_, i) => {
        const start = Math.floor(r() * 300);
        return {
          detector: `d${i % 3}`,
          kind: "pii",
          label: "X",
          start,
          end: start + 1 + Math.floor(r() * 20),
          confidence: [0.5, 0.9, 0.9, 0.97][Math.floor(r() * 4)]!,
          explanation: String(i),
        };
      });
      expect(resolveOverlaps(fs)).toEqual(resolveOverlapsReference(fs));
    }
  });
});

describe("prefilter: triggers", () => {
  const bits = (line: string): number => scanTriggers(line).any;
  test("typical log lines without PII have no trigger", () => {
    for (const l of [
      '{"level":30,"time":1717000000494,"pid":4242,"hostname":"node-7","svc":"gateway","req_id":"064dd90e-5957-4cbd-a521-73c89eab4200","msg":"epoch 89 step 87557 loss 0.7087","latency_ms":1545}',
      "request served in 123ms",
      "loaded model resnet-94 sha256:92751af03c2ed63f6f05290e885a8eba7617b8fd8ebd14a8b7d7363f0aaae743",
    ])
      expect(bits(l), l).toBe(0);
  });
  test("each family fires on its trigger", () => {
    expect(bits("mail bob@example.org") & TRIGGER.EMAIL).not.toBe(0);
    expect(bits("card 4539 1488 0343 6467") & TRIGGER.CARD).not.toBe(0);
    expect(bits("ssn 123-45-6789") & TRIGGER.SSN).not.toBe(0);
    expect(bits("call 415-555-0134") & TRIGGER.PHONE).not.toBe(0);
    expect(bits("from 8.8.4.4") & TRIGGER.IP).not.toBe(0);
    expect(bits("from 2001:db8::1") & TRIGGER.IP).not.toBe(0);
    expect(bits("iban DE89370400440532013000") & TRIGGER.IBAN).not.toBe(0);
    expect(bits("AKIAABCDEFGHIJKLMNOP") & TRIGGER.AWS_ID).not.toBe(0);
    expect(bits("API_KEY=abc") & TRIGGER.GENERIC).not.toBe(0);
    expect(bits("Date Of Birth: 1 May 1980") & TRIGGER.DOB).not.toBe(0);
    expect(bits('{"msg":"a \\"b\\""}') & TRIGGER.JSON_ESCAPE).not.toBe(0);
    expect(bits("q=a%40b") & TRIGGER.URL_ESCAPE).not.toBe(0);
    expect(bits("x dXNlcjpwYXNzd29yZEBob3N0Cg== y") & TRIGGER.BASE64).not.toBe(0);
  });
  test("non-ASCII units whose low byte looks like ASCII are not read as ASCII", () => {
    expect(bits("bob\u0140example.org")).toBe(0); // U+0140 ends in 0x40 "@"
    expect(bits("card \u0134\u0135\u0133\u0139 \u0131\u0134\u0138\u0138 \u0130\u0133\u0134\u0133 \u0136\u0134\u0136\u0137")).toBe(0);
    same("card 4539 1488 0343 6467\u0131 and 4539 1488 0343 6467 \u0140");
  });
  test("masks are per line", () => {
    const r = scanTriggers("nothing\nbob@example.org\nnothing\r\n");
    expect(r.starts).toEqual([8]);
    expect(r.ends).toEqual([23]);
  });
});
