import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { maskHint, parseBaseline, readBaseline, scan, writeBaseline } from "../../src/scan/index.js";
import { SECRET, SECRET2, TEST_DETECTORS, tree } from "./helpers.js";

describe("baseline", () => {
  it("accepts known findings; new ones still count", async () => {
    const root = tree({ "a.py": `api_key = "${SECRET}"\n` });
    const file = path.join(root, "baseline.json");
    expect((await readBaseline(file)).size).toBe(0); // missing file: empty baseline
    const first = await scan(["a.py"], { detectors: TEST_DETECTORS, root });
    expect(first.stats.newFindings).toBe(1);
    await writeBaseline(file, first.findings);
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text)).toMatchObject({ version: 1, findings: [{ detector: "test-api-key", path: "a.py" }] });

    const baseline = await readBaseline(file);
    const second = await scan(["a.py"], { detectors: TEST_DETECTORS, root, baseline });
    expect(second.findings.map((f) => f.baselined)).toEqual([true]);
    expect(second.stats.newFindings).toBe(0);

    writeFileSync(path.join(root, "a.py"), `# moved down\napi_key = "${SECRET}"\napi_key = "${SECRET2}"\n`);
    const third = await scan(["a.py"], { detectors: TEST_DETECTORS, root, baseline });
    expect(third.findings.map((f) => [f.line, f.baselined])).toEqual([
      [2, true],
      [3, false],
    ]);
    expect(third.stats.newFindings).toBe(1);
  });

  it("rejects a file that is not a baseline", () => {
    expect(() => parseBaseline("[]")).toThrow(/not a pipeseal scan baseline/);
    expect(() => parseBaseline("{")).toThrow(/not JSON/);
  });
});

describe("hints", () => {
  it("never show more than 8 characters, and nothing of short values", () => {
    expect(maskHint(SECRET)).toBe(`${SECRET.slice(0, 4)}…${SECRET.slice(-4)}`);
    expect(maskHint("ann@example.com")).toBe("an…om");
    expect(maskHint("123-45-678")).toBe("…");
  });
});
