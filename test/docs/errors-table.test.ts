import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { ERROR_CODES, type ErrorCode } from "../../src/errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \|.*\| (\d) \|$/gm)].map((m) => ({ code: m[1] as ErrorCode, exit: Number(m[2]) }));

describe("docs/errors.md", () => {
  it("lists exactly the codes in src/errors.ts, in the same order", () => {
    expect(rows.map((r) => r.code)).toEqual(Object.keys(ERROR_CODES));
  });
  it("gives each code the exit status the CLI uses", () => {
    for (const r of rows) expect([r.code, exitCodeFor(r.code)]).toEqual([r.code, r.exit]);
  });
});
