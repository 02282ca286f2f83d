import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FINGERPRINT_NAME, scan, toSarif } from "../../src/scan/index.js";
import { SECRET, SECRET2, TEST_DETECTORS, lines, notebook, sarifValidator, tree } from "./helpers.js";

describe("SARIF 2.1.0", () => {
  it("validates against the SARIF 2.1.0 JSON schema, with notebook and baselined results", async () => {
    const root = tree({
      "a.py": `api_key = "${SECRET}"\nowner = "ann@example.com"\n`,
      "nb.ipynb": notebook([{ cell_type: "code", metadata: {}, outputs: [], source: lines(`x = 1\napi_key = "${SECRET2}"\n`) }]),
    });
    const first = await scan(["."], { detectors: TEST_DETECTORS, root });
    const baseline = new Set([first.findings[0]!.fingerprint]);
    const { findings } = await scan(["."], { detectors: TEST_DETECTORS, root, baseline });
    const log = toSarif(findings, TEST_DETECTORS, { toolVersion: "0.1.0", rootUri: "file:///repo/" }) as any;
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);

    const run = log.runs[0];
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(["test-api-key", "test-email"]);
    expect(run.results.map((r: any) => [r.ruleId, r.level, r.baselineState, r.locations[0].physicalLocation.region.startLine])).toEqual([
      ["test-api-key", "error", "unchanged", 1],
      ["test-email", "warning", "new", 2],
      ["test-api-key", "error", "new", expect.any(Number)],
    ]);
    expect(run.results[2].locations[0].logicalLocations[0].fullyQualifiedName).toBe("cells[0].source:2:12");
    expect(run.results[0].partialFingerprints[FINGERPRINT_NAME]).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(log);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET2);
    expect(text).not.toContain("ann@example.com");
  });

  it("an empty scan is a valid log too", () => {
    expect(sarifValidator()(toSarif([], TEST_DETECTORS, { toolVersion: "0.1.0" }))).toBe(true);
  });
});

describe("fingerprints", () => {
  it("are stable across runs and when lines are inserted above, and change with the secret or the file", async () => {
    const root = tree({ "a.py": `import os\napi_key = "${SECRET}"\n`, "b.py": `api_key = "${SECRET}"\n` });
    const fp = async () => (await scan(["."], { detectors: TEST_DETECTORS, root })).findings.map((f) => [f.path, f.line, f.fingerprint] as const);
    const before = await fp();
    expect(await fp()).toEqual(before);
    writeFileSync(path.join(root, "a.py"), `# a comment\n\n\nimport os\n   api_key = '${SECRET}'  # reformatted\n`);
    const after = await fp();
    expect(after[0]![1]).toBe(5);
    expect(after[0]![2]).toBe(before[0]![2]);
    expect(before[1]![2]).not.toBe(before[0]![2]); // another file
    writeFileSync(path.join(root, "a.py"), `api_key = "${SECRET2}"\n`);
    expect((await fp())[0]![2]).not.toBe(before[0]![2]); // rotated secret: a new finding
  });

  it("depend on the key", async () => {
    const root = tree({ "a.py": `api_key = "${SECRET}"\n` });
    const a = await scan(["."], { detectors: TEST_DETECTORS, root });
    const b = await scan(["."], { detectors: TEST_DETECTORS, root, fingerprintKey: "repo-secret" });
    expect(a.findings[0]!.fingerprint).not.toBe(b.findings[0]!.fingerprint);
  });
});
