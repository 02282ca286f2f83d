import { describe, expect, it } from "vitest";
import { printable, printableLines } from "../../src/io/printable.js";
import { renderTerminal } from "../../src/posture/report/terminal.js";

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("printable: terminal-safe user-controlled strings", () => {
  it("escapes every C0, DEL, C1, bidi override/isolate and separator, and the backslash; leaves other text alone", () => {
    for (let c = 0; c <= 0x9f; c++) {
      if (c >= 0x20 && c < 0x7f && c !== 0x5c) continue;
      const out = printable(`a${String.fromCharCode(c)}b`);
      expect(out, `U+${c.toString(16)}`).not.toMatch(UNSAFE);
      expect(out.length).toBeGreaterThan(3);
    }
    for (const c of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c, 0x2028, 0x2029]) {
      expect(printable(String.fromCharCode(c))).toBe(`\\u${c.toString(16).padStart(4, "0")}`);
    }
    expect(printable("x\n5  alice  decrypt\x1b[31m ok\x9b2J\t\r\\")).toBe("x\\n5  alice  decrypt\\x1b[31m ok\\x9b2J\\t\\r\\\\");
    expect(printable("données/файл 数据 🙂.csv")).toBe("données/файл 数据 🙂.csv");
    expect(printable(null)).toBe("-");
    // unambiguous: a literal backslash-n and a newline print differently
    expect(printable("a\\nb")).not.toBe(printable("a\nb"));
  });

  it("printableLines keeps the output's newlines, tabs and escapes but strips what a command forgot", () => {
    expect(printableLines("a\tb\nc \\n \x1b[2J\u202e")).toBe("a\tb\nc \\n \\x1b[2J\\u202e");
  });

  it("posture's terminal report escapes finding messages and map names", () => {
    const report = {
      map: { name: "p\x1b]0;pwned\x07" },
      stages: [],
      connections: [],
      findings: [{ severity: "high", checkId: "plaintext.file", stage: null, message: "plaintext at data/x\n  HIGH     fake.check  all clear\u202e" }],
      checks: [],
      stats: { filesExamined: 1 },
      durationMs: 1,
      answers: { plaintext: [], retention: [], access: [] },
    } as unknown as Parameters<typeof renderTerminal>[0];
    const text = renderTerminal(report);
    expect(text).not.toMatch(/\x1b|\x07|\u202e/);
    expect(text).toContain("data/x\\n  HIGH     fake.check  all clear\\u202e");
    expect(text.split("\n").filter((l) => l.includes("fake.check"))).toHaveLength(1);
  });
});
