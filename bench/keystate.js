#!/usr/bin/env node
// Key-state check benchmark: what authenticating key state (src/keys/key-state.ts) costs on
// every local unwrap. Measures, in one run:
//   - audited local unwraps per second, 1,000 per transaction (the key service's group commit
//     shape, so the figure is CPU, not fsync), for this build and, with BENCH_KEYSTATE_BASELINE
//     set to another build's dist/ (e.g. the previous release), for that build as the peer;
//   - one unwrap's state check alone (the key row's and the version row's HMAC-SHA-256).
// Env: BENCH_KEYSTATE_UNWRAPS (per sample, 20000)  BENCH_KEYSTATE_RUNS (samples, 5; median)
//      BENCH_KEYSTATE_BASELINE (path of another build's dist/ to measure as the peer)
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, log, median, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const DIST = join(dirname(BENCH), "dist");
const N = Number(process.env.BENCH_KEYSTATE_UNWRAPS ?? 20_000);
const RUNS = Number(process.env.BENCH_KEYSTATE_RUNS ?? 5);
const BASELINE = process.env.BENCH_KEYSTATE_BASELINE;
const CTX = { dataset: "bench" };
const OBJ = { operation: "decrypt", path: "bench.pseal" };

/** Audited unwraps per second through the build in `dist`, `RUNS` samples of `N`. */
async function unwrapsPerSecond(dist) {
  const { initKeystore, openKeystore } = await import(pathToFileURL(join(dist, "keys", "index.js")).href);
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-keystate-"));
  try {
    await initKeystore(join(dir, "ks"));
    const ks = await openKeystore(join(dir, "ks"), { principal: "bench" });
    try {
      ks.createKey("bench/k");
      ks.rotateKey("bench/k"); // a key with history, as in use
      const entry = await ks.wrap("bench/k", randomBytes(32), CTX);
      const samples = [];
      for (let r = 0; r < RUNS; r++) {
        const t0 = process.hrtime.bigint();
        for (let done = 0; done < N; done += 1000)
          ks.transaction(() => {
            for (let i = 0; i < 1000; i++) ks.unwrapSync(entry, CTX, OBJ).fill(0);
          });
        samples.push(N / (Number(process.hrtime.bigint() - t0) / 1e9));
      }
      return median(samples);
    } finally {
      ks.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Microseconds of one unwrap's state check (key row + version row). */
async function checkUs() {
  const { StateSeal } = await import(pathToFileURL(join(DIST, "keys", "key-state.js")).href);
  const { MasterKey } = await import(pathToFileURL(join(DIST, "keys", "master-key.js")).href);
  const seal = StateSeal.fromRoot(MasterKey.fromRoot(randomBytes(32)));
  const key = { name: "bench/k", primary_version: 2, min_decrypt_version: 1, rotate_every_seconds: null, state_gen: 2 };
  const row = { key_name: "bench/k", version: 1, state: "enabled", wrap_count: 1, state_gen: 2 };
  const k = { ...key, state_mac: seal.keyMac(key) };
  const v = { ...row, state_mac: seal.versionMac(row) };
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) seal.checkVersion(seal.checkKey(k), v);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

export async function benchKeyState() {
  log(`key-state check: ${RUNS} × ${N} audited local unwraps per build${BASELINE ? `, baseline ${BASELINE}` : ""}`);
  const results = { unwraps: N, runs: RUNS, current: await unwrapsPerSecond(DIST), baseline: null, baselineDist: BASELINE ?? null, checkUs: await checkUs() };
  if (BASELINE) results.baseline = await unwrapsPerSecond(BASELINE);
  const rows = [["this build (state checked)", fmt(results.current, 0), fmt(1e6 / results.current, 1)]];
  if (results.baseline !== null) rows.unshift(["baseline (no state check)", fmt(results.baseline, 0), fmt(1e6 / results.baseline, 1)]);
  process.stdout.write(`\n## key-state check on every unwrap\n\n${table(["build", "unwraps/s", "µs/unwrap"], rows)}\n\n`);
  process.stdout.write(
    `state check alone (2 × HMAC-SHA-256): ${fmt(results.checkUs, 2)} µs per unwrap${results.baseline === null ? "" : `; measured difference ${fmt(1e6 / results.current - 1e6 / results.baseline, 1)} µs`}\n`,
  );
  writeFileSync(join(BENCH, "keystate-results.json"), JSON.stringify(results, null, 2) + "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchKeyState();
