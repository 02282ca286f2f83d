#!/usr/bin/env node
// Demo benchmark: `npm run demo`'s pipeline (dist/demo/main.js --json), each step's time and the
// total wall time, against the 3-minute target; the peer is the floor the training step cannot go
// under on this machine, a bare `python3 -c 'import torch, fsspec, aiohttp'`, measured in the same run.
// Standalone: `node bench/demo.js` (after `npm run build`); also called from bench/run.js.
//
// Env: BENCH_DEMO_RUNS (default 1)
// Progress on stderr, the report on stdout, raw data in bench/demo-results.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, log, median, runProc, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const DEMO = join(ROOT, "dist", "demo", "main.js");
const TARGET_SECONDS = 180;

export async function benchDemo() {
  const runs = Number(process.env.BENCH_DEMO_RUNS ?? 1);
  const work = mkdtempSync(join(tmpdir(), "pipeseal-bench-demo-"));
  try {
    const torch = await runProc("/usr/bin/python3", ["-c", "import torch, fsspec, aiohttp"], { rss: false });
    const results = [];
    for (let r = 0; r < runs; r++) {
      const res = await runProc(process.execPath, [DEMO, "--dir", join(work, `run-${r}`), "--json"], { stdout: "pipe" });
      const out = JSON.parse(res.stdout.toString("utf8"));
      if (!out.ok) throw new Error(`demo bench: the demo failed: ${out.error}`);
      results.push({ wallSeconds: res.seconds, totalMs: out.totalMs, steps: out.steps.map((s) => ({ name: s.name, ms: s.ms })), rssKiB: res.rssKiB });
      log(`demo: run ${r + 1}: ${fmt(res.seconds, 1)} s`);
    }
    const wall = median(results.map((x) => x.wallSeconds));
    const names = results[0].steps.map((s) => s.name);
    const stepMs = names.map((n) => median(results.map((x) => x.steps.find((s) => s.name === n).ms)));
    const summary = { runs, medianWallSeconds: wall, torchImportSeconds: torch.seconds, steps: Object.fromEntries(names.map((n, i) => [n, stepMs[i]])), targetSeconds: TARGET_SECONDS, pass: wall < TARGET_SECONDS, results };
    writeFileSync(join(BENCH, "demo-results.json"), JSON.stringify(summary, null, 2) + "\n");
    process.stdout.write(`\n## Demo (npm run demo's pipeline, median of ${runs})\n\n`);
    process.stdout.write(table(["step", "s"], [...names.map((n, i) => [n, fmt(stepMs[i] / 1000, 2)]), ["total (wall, node start to exit)", fmt(wall, 1)], ["peer: python3 -c 'import torch, fsspec, aiohttp'", fmt(torch.seconds, 2)]]) + "\n");
    process.stdout.write(`  ${summary.pass ? "PASS" : "FAIL"}  demo wall time ${fmt(wall, 1)} s (target < ${TARGET_SECONDS} s)\n`);
    return summary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchDemo();
