/**
 * A machine without the addon: the suites that seal and open (envelope, the format's
 * independent reader, the CLI pipeline, registry pull, the gateway's HTTP reads, the engine's
 * CLI tests) run again here with PIPESEAL_ENGINE=reference, in a vitest of their own, so the
 * reference path is held to the same tests as the native one on every run.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runAsync } from "../helpers/run-async.js";

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const SUITES = [
  "test/envelope",
  "test/format",
  "test/engine/cli.test.ts",
  "test/engine/agreement.test.ts",
  "test/engine/steps.test.ts",
  "test/engine/pump.test.ts",
  "test/artifacts/pull-direct.test.ts",
  "test/gateway/http.test.ts",
  "test/cli/cli.test.ts",
];

it("the sealing and opening suites pass on the reference engine", async () => {
  const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
  const r = await runAsync(process.execPath, [vitest, "run", ...SUITES], {
    cwd: root,
    env: { ...process.env, PIPESEAL_ENGINE: "reference", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
    timeout: 540_000,
  });
  const plain = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, ""); // colours, should a terminal setting force them
  const summary = plain.split("\n").filter((l) => /Test Files|Tests |FAIL/.test(l));
  expect(summary.join("\n")).toMatch(/Test Files\s+\d+ passed/);
  expect(summary.join("\n")).not.toMatch(/failed/);
  const errors = plain.split("\n").filter((l) => /^\s*\w*Error\b/.test(l));
  expect(errors, errors.join("\n")).toEqual([]);
  expect(r.status).toBe(0);
}, 600_000);
