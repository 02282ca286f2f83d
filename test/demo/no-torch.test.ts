/**
 * A machine without Debian's torch/fsspec/aiohttp: the demo must fail, naming the fix
 * (`bash scripts/setup.sh`), never skip training; and still stop the servers it started.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { runAsync } from "../helpers/run-async.js";
import { refused } from "./evidence.js";

const DEMO = fileURLToPath(new URL("../../dist/demo/main.js", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "pipeseal-demo-notorch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it("fails with what to run when the training Python lacks torch, and stops its servers", async () => {
  const dir = path.join(root, "demo");
  // a real Python without its dist-packages (-S): python3-torch, -fsspec, -aiohttp are not there
  const bare = path.join(root, "python3-bare");
  writeFileSync(bare, '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n', { mode: 0o755 });
  const r = await runAsync(process.execPath, [DEMO, "--dir", dir, "--json"], { timeout: 120_000, env: { ...process.env, PIPESEAL_DEMO_PYTHON: bare } });
  expect(r.status).toBe(1);
  const result = JSON.parse(r.stdout) as { ok: boolean; error: string; servers: string[]; steps: { name: string }[] };
  expect(result.ok).toBe(false);
  expect(result.error).toContain("bash scripts/setup.sh");
  expect(result.error).toContain("lacks torch, fsspec, aiohttp");
  expect(result.steps.map((s) => s.name)).not.toContain("train");
  expect(result.servers.length).toBeGreaterThan(0);
  for (const url of result.servers) expect(await refused(url)).toBe(true);

  // the text mode says the same on one line, without a stack trace; run over the folder the
  // previous demo (scripts/demo.sh) left, which it may empty
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, ".pipeseal"), { recursive: true });
  writeFileSync(path.join(dir, ".pipeseal", "keystore.db"), "");
  writeFileSync(path.join(dir, "customers.csv.pseal"), "");
  const t = await runAsync(process.execPath, [DEMO, "--dir", dir], {
    timeout: 120_000,
    env: { ...process.env, PIPESEAL_DEMO_PYTHON: path.join(root, "no-such-python3") },
  });
  expect(t.status).toBe(1);
  expect(t.stdout).toMatch(/DEMO FAILED: .*bash scripts\/setup\.sh/);
  expect(t.stdout + t.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(path.join(dir, "customers.csv.pseal"))).toBe(false);
  expect(existsSync(path.join(dir, ".pipeseal-demo"))).toBe(true);
}, 180_000);

it("refuses to empty a folder that is not a previous demo's", async () => {
  const dir = path.join(root, "precious");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "thesis.txt"), "years of work");
  const r = await runAsync(process.execPath, [DEMO, "--dir", dir], { timeout: 60_000, env: { ...process.env } });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("not a previous demo's folder");
  expect(existsSync(path.join(dir, "thesis.txt"))).toBe(true);
});
