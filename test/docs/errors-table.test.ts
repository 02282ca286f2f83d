import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_REGISTRY, type ErrorCode } from "../../src/errors.js";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \|.*\| `(\w+)` \| (\d{3}) \| (denied|error) \| (\d) \|$/gm)].map((m) => ({
  code: m[1] as ErrorCode,
  class: m[2],
  http: Number(m[3]),
  outcome: m[4],
  exit: Number(m[5]),
}));

describe("docs/errors.md", () => {
  it("lists exactly the codes of the registry, in the same order", () => {
    expect(rows.map((r) => r.code)).toEqual(Object.keys(ERROR_REGISTRY));
  });
  it("gives each code the class, HTTP status, audit outcome and exit status of its registry row", () => {
    for (const r of rows) {
      const reg = ERROR_REGISTRY[r.code];
      expect(r).toEqual({ code: r.code, class: reg.class, http: reg.http, outcome: reg.outcome, exit: reg.exit });
    }
  });
});
