#!/usr/bin/env node
// Demo benchmark: `npm run demo`'s pipeline (dist/demo/main.js --json), with the keys in the keystore
// and with --service, each step's time and the total wall time, against the 3-minute target; the peer is the floor the training step cannot go
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
    // the keystore run and the --service run alternate, so both see the same machine
    const modes = { keystore: [], service: [] };
    for (let r = 0; r < runs; r++) {
      for (const [mode, results] of Object.entries(modes)) {
        const args = [DEMO, "--dir", join(work, `${mode}-${r}`), "--json", ...(mode === "service" ? ["--service"] : [])];
        const res = await runProc(process.execPath, args, { stdout: "pipe" });
        const out = JSON.parse(res.stdout.toString("utf8"));
        if (!out.ok) throw new Error(`demo bench: the demo (${mode}) failed: ${out.error}`);
        results.push({ wallSeconds: res.seconds, totalMs: out.totalMs, steps: out.steps.map((s) => ({ name: s.name, ms: s.ms })), rssKiB: res.rssKiB });
        log(`demo (${mode}): run ${r + 1}: ${fmt(res.seconds, 1)} s`);
      }
    }
    const names = modes.keystore[0].steps.map((s) => s.name);
    const of = (results) => ({
      medianWallSeconds: median(results.map((x) => x.wallSeconds)),
      steps: Object.fromEntries(names.map((n) => [n, median(results.map((x) => x.steps.find((s) => s.name === n).ms))])),
      results,
    });
    const keystore = of(modes.keystore);
    const service = of(modes.service);
    const wall = Math.max(keystore.medianWallSeconds, service.medianWallSeconds);
    const summary = { runs, torchImportSeconds: torch.seconds, keystore, service, targetSeconds: TARGET_SECONDS, pass: wall < TARGET_SECONDS };
    writeFileSync(join(BENCH, "demo-results.json"), JSON.stringify(summary, null, 2) + "\n");
    process.stdout.write(`\n## Demo (npm run demo's pipeline, median of ${runs}; keys in the keystore, and with --service)\n\n`);
    const rows = names.map((n) => [n, fmt(keystore.steps[n] / 1000, 2), fmt(service.steps[n] / 1000, 2)]);
    rows.push(["total (wall, node start to exit)", fmt(keystore.medianWallSeconds, 1), fmt(service.medianWallSeconds, 1)]);
    rows.push(["peer: python3 -c 'import torch, fsspec, aiohttp'", fmt(torch.seconds, 2), ""]);
    process.stdout.write(table(["step", "keystore s", "--service s"], rows) + "\n");
    process.stdout.write(
      `  ${summary.pass ? "PASS" : "FAIL"}  demo wall time ${fmt(keystore.medianWallSeconds, 1)} s, ${fmt(service.medianWallSeconds, 1)} s with --service (target < ${TARGET_SECONDS} s)\n`,
    );
    return summary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchDemo();
