import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, test } from "vitest";
import { detectAll } from "../../src/redact/index.js";
// @ts-expect-error plain JS module shared with bench/redact.js
import { TARGETS, evaluateCorpus } from "../corpus/evaluate.mjs";

interface Row {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}
interface Result {
  perDetector: Record<string, Row>;
  overall: Row;
  errors: unknown[];
  pass: boolean;
}

function check(r: Result): void {
  expect(r.overall.recall, JSON.stringify(r.errors.slice(0, 10))).toBeGreaterThanOrEqual(TARGETS.recall);
  expect(r.overall.precision, JSON.stringify(r.errors.slice(0, 10))).toBeGreaterThanOrEqual(TARGETS.precision);
  for (const [id, row] of Object.entries(r.perDetector)) {
    expect(row.precision, id).toBeGreaterThanOrEqual(TARGETS.perDetector);
    expect(row.recall, id).toBeGreaterThanOrEqual(TARGETS.perDetector);
  }
  expect(r.pass).toBe(true);
}

describe("accuracy on the labelled corpus", () => {
  test("committed corpus meets the targets (recall ≥ 0.98, precision ≥ 0.95, every detector ≥ 0.90)", () => {
    const r = evaluateCorpus((t: string) => detectAll(t)) as Result;
    expect(Object.keys(r.perDetector).length).toBeGreaterThanOrEqual(22);
    check(r);
  });

  test("a held-out corpus from another seed meets them too", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pipeseal-corpus-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const gen = spawnSync(process.execPath, [path.resolve("test/corpus/generate.mjs"), "--seed", "7", "--out", dir]);
    expect(gen.status).toBe(0);
    check(evaluateCorpus((t: string) => detectAll(t), dir) as Result);
  });
});
