import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { notebookUnits, scan } from "../../src/scan/index.js";
import { SECRET, SECRET2, TEST_DETECTORS, lines, notebook, tree } from "./helpers.js";

const opts = (root: string) => ({ detectors: TEST_DETECTORS, root });

describe("notebooks", () => {
  it("finds a secret behind escaped quotes that a regex over the raw file misses", async () => {
    const nb = notebook([
      { cell_type: "markdown", id: "a", metadata: {}, source: lines("# Setup\n") },
      { cell_type: "code", execution_count: 1, id: "b", metadata: {}, outputs: [], source: lines(`import openai\napi_key = "${SECRET}"\n`) },
    ]);
    const root = tree({ "nb.ipynb": nb });
    const raw = readFileSync(path.join(root, "nb.ipynb"), "utf8");
    expect(raw).toContain(`api_key = \\"${SECRET}\\"`); // what the file really holds
    expect(TEST_DETECTORS[0]!.find(raw)).toEqual([]); // the naive scan over raw JSON sees nothing

    const { findings, stats } = await scan(["."], { ...opts(root), root });
    expect(stats.notebooks).toBe(1);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f.detector).toBe("test-api-key");
    expect(f.notebook).toMatchObject({ cell: 1, cellType: "code", line: 2, column: 12 });
    expect(f.notebook?.output).toBeUndefined();
    // the raw-file position points at the secret inside the JSON string
    const rawLine = raw.split("\n")[f.line - 1]!;
    expect(rawLine.slice(f.column - 1).startsWith(SECRET)).toBe(true);
  });

  it("reads sources given as one string and as arrays, and places lines in multi-line cells", async () => {
    const nb = notebook([
      { cell_type: "code", outputs: [], metadata: {}, source: `x = 1\n\ny = 2\napi_key = '${SECRET}'` },
      { cell_type: "code", outputs: [], metadata: {}, source: lines(`a = 1\nb = 2\nc = 3\napi_key = "${SECRET2}"\n`) },
    ]);
    const { findings } = await scan(["nb.ipynb"], opts(tree({ "nb.ipynb": nb })));
    expect(findings.map((f) => [f.notebook?.cell, f.notebook?.line])).toEqual([
      [0, 4],
      [1, 4],
    ]);
  });

  it("scans stream, text/plain, text/html and error outputs, and skips images", async () => {
    const png = Buffer.from(`api_key = "${SECRET}" hidden in pixels`).toString("base64");
    const nb = notebook([
      {
        cell_type: "code",
        metadata: {},
        source: ["print(cfg)\n"],
        outputs: [
          { output_type: "stream", name: "stdout", text: [`loaded\n`, `api_key = "${SECRET}"\n`] },
          { output_type: "execute_result", execution_count: 1, metadata: {}, data: { "text/plain": [`{'owner': 'ann@example.com'}`], "image/png": png } },
          {
            output_type: "display_data",
            metadata: {},
            data: { "text/html": [`<td>api_key = '${SECRET2}'</td>`], "image/svg+xml": [`<text>api_key = "${SECRET2}"</text>`] },
          },
          { output_type: "error", ename: "ValueError", evalue: "bad", traceback: [`\u001b[0;31mValueError\u001b[0m: api_key = "${SECRET}"`] },
        ],
      },
    ]);
    const { findings } = await scan(["nb.ipynb"], opts(tree({ "nb.ipynb": nb })));
    expect(findings.map((f) => [f.detector, f.notebook?.output, f.notebook?.mime, f.notebook?.line])).toEqual([
      ["test-api-key", 0, "stream", 2],
      ["test-email", 1, "text/plain", 1],
      ["test-api-key", 2, "text/html", 1],
      ["test-api-key", 3, "error", 2],
    ]);
    expect(findings.every((f) => f.notebook?.outputType !== undefined)).toBe(true);
  });

  it("renders application/json outputs as key: value lines", () => {
    const units = notebookUnits(
      notebook([
        {
          cell_type: "code",
          metadata: {},
          source: [],
          outputs: [{ output_type: "display_data", metadata: {}, data: { "application/json": { cfg: { token: 't"x' } } } }],
        },
      ]),
    );
    expect(units).toEqual([{ cell: 0, cellType: "code", output: 0, outputType: "display_data", mime: "application/json", text: 'cfg.token: t"x' }]);
  });

  it("scans a malformed notebook as text, with a note, without crashing", async () => {
    const root = tree({ "broken.ipynb": `{"cells": [ {"source": "api_key = '${SECRET}'"  ` });
    const { findings, notes } = await scan(["."], opts(root));
    expect(notes).toEqual([expect.objectContaining({ path: "broken.ipynb", kind: "malformed-notebook" })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ path: "broken.ipynb", line: 1 });
    expect(findings[0]!.notebook).toBeUndefined();
  });
});
