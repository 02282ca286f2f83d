#!/usr/bin/env node
// Differential-privacy benchmark (src/privacy), in one run:
//   1. samples per second of the exact samplers, one core: discrete Laplace (target >= 200,000/s)
//      and discrete Gaussian (target >= 50,000/s), at several scales;
//   2. a DP count (--where), sum (clamped) and histogram over a sealed CSV of BENCH_DP_ROWS rows
//      (default 1,000,000) through runPrivateQuery (budget spend + audit, in-memory decrypt,
//      contribution bounding, exact grid sums, noise), against the same aggregate without noise
//      in the same run (the same sealed read, a plain loop): target within 1.3x;
//   3. a deep goodness-of-fit run: BENCH_DP_FIT samples (default 1,000,000) per sampler and scale,
//      chi-square against the exact distribution.
// Standalone: `node bench/privacy.js` (after `npm run build`); also called at the end of bench/run.js.
// Env: BENCH_DP_ROWS (1000000)  BENCH_DP_RUNS (3, median)  BENCH_DP_SAMPLES (500000)  BENCH_DP_FIT (1000000)
// Report on stdout, raw data in bench/privacy-results.json.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, log, median, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const DIST = join(dirname(BENCH), "dist");
const ROWS = Number(process.env.BENCH_DP_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_DP_RUNS ?? 3);
const SAMPLES = Number(process.env.BENCH_DP_SAMPLES ?? 500_000);
const FIT = Number(process.env.BENCH_DP_FIT ?? 1_000_000);
const imp = (p) => import(pathToFileURL(join(DIST, p)).href);

function perSecond(n, f) {
  const t0 = process.hrtime.bigint();
  let sink = 0n;
  for (let i = 0; i < n; i++) sink ^= f();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink === -1n) log("unreachable");
  return n / s;
}

async function samplers(dp) {
  const rows = [];
  const out = [];
  for (const scale of [1, 10, 1000, 1e6]) {
    const lap = perSecond(SAMPLES, () => dp.sampleDiscreteLaplace(scale));
    const gau = perSecond(SAMPLES, () => dp.sampleDiscreteGaussian(scale));
    out.push({ scale, laplacePerSecond: lap, gaussianPerSecond: gau });
    rows.push([String(scale), fmt(lap, 0), fmt(gau, 0)]);
  }
  return { rows, out };
}

async function aggregates(dp) {
  const { initKeystore, openKeystore } = await imp("keys/index.js");
  const { encryptFile } = await imp("envelope/files.js");
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-dp-"));
  try {
    const home = join(dir, "ks");
    await initKeystore(home);
    const ks = await openKeystore(home, { principal: "bench" });
    try {
      ks.createKey("datasets/raw");
      log(`writing and sealing a ${ROWS.toLocaleString("en")}-row CSV`);
      const parts = ["id,country,spend,age\n"];
      let x = 7;
      for (let i = 0; i < ROWS; i++) {
        x = (x * 1103515245 + 12345) % 2 ** 31;
        parts.push(`${i},${x % 3 === 0 ? "DE" : "FR"},${(x % 60000) / 100},${x % 100}\n`);
      }
      writeFileSync(join(dir, "c.csv"), parts.join(""));
      const input = join(dir, "c.csv.pseal");
      await encryptFile(ks, join(dir, "c.csv"), input, { keyName: "datasets/raw" });
      new dp.PrivacyLedger(ks).setBudget("bench", { epsilon: "1000000" });
      const bins = [0, 18, 30, 45, 65, 120];
      const queries = {
        count: { kind: "count", where: [{ column: "country", value: "DE" }], epsilon: "0.5" },
        sum: { kind: "sum", column: "spend", bounds: [0, 500], epsilon: "0.5" },
        histogram: { kind: "histogram", column: "age", bins, epsilon: "0.5" },
      };
      // the peer: the same sealed read, the same aggregate, no bounding, no grid, no noise, no ledger
      const plain = {
        count: async () => {
          let n = 0;
          for await (const { record } of dp.readInput(input, { keyring: ks })) if (record.country === "DE") n++;
          return n;
        },
        sum: async () => {
          let s = 0;
          for await (const { record } of dp.readInput(input, { keyring: ks })) s += Math.min(500, Math.max(0, Number(record.spend)));
          return s;
        },
        histogram: async () => {
          const h = new Array(bins.length - 1).fill(0);
          for await (const { record } of dp.readInput(input, { keyring: ks })) {
            const v = Number(record.age);
            for (let i = 0; i < h.length; i++)
              if (v >= bins[i] && (v < bins[i + 1] || (i === h.length - 1 && v === bins[i + 1]))) {
                h[i]++;
                break;
              }
          }
          return h;
        },
      };
      const timed = async (f) => {
        const t0 = process.hrtime.bigint();
        await f();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const rows = [];
      const out = {};
      for (const name of Object.keys(queries)) {
        const dpMs = [];
        const plainMs = [];
        for (let r = 0; r < RUNS; r++) {
          // interleaved, so load changes hit both alike
          plainMs.push(await timed(plain[name]));
          dpMs.push(await timed(() => dp.runPrivateQuery(ks, queries[name], { budget: "bench", input })));
        }
        const ratio = median(dpMs) / median(plainMs);
        out[name] = { dpMs: median(dpMs), plainMs: median(plainMs), ratio };
        rows.push([name, fmt(median(plainMs), 0), fmt(median(dpMs), 0), fmt(ratio, 2), ratio <= 1.3 ? "yes" : "NO"]);
      }
      return { rows, out };
    } finally {
      ks.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function deepFit(dp) {
  const rows = [];
  const out = [];
  for (const [name, sample, cdf, spread] of [
    ["discrete Laplace", dp.sampleDiscreteLaplace, dp.discreteLaplaceCdf, 60],
    ["discrete Gaussian", dp.sampleDiscreteGaussian, dp.discreteGaussianCdf, 12],
  ]) {
    for (const scale of [0.5, 3.7, 1e6]) {
      const rng = dp.seededRandomSource(`bench-fit-${name}-${scale}`);
      const xs = new Array(FIT);
      for (let i = 0; i < FIT; i++) xs[i] = Number(sample(scale, rng));
      const c = (x) => cdf(scale, x);
      const edges = scale < 10 ? dp.integerBins(c, FIT) : dp.equalMassBins(c, 50, spread * scale + 10);
      const { stat, df } = dp.chiSquare(xs, c, edges);
      const critical = dp.chiSquareCritical(df);
      out.push({ sampler: name, scale, samples: FIT, chiSquare: stat, df, critical001: critical, pass: stat < critical });
      rows.push([name, String(scale), String(FIT), String(df), fmt(stat, 1), fmt(critical, 1), stat < critical ? "pass" : "FAIL"]);
    }
  }
  return { rows, out };
}

export async function benchPrivacy() {
  const dp = await imp("privacy/index.js");
  log(`privacy: ${SAMPLES} samples per sampler and scale`);
  const s = await samplers(dp);
  process.stdout.write(
    `\n## differential privacy: exact samplers (one core; targets Laplace >= 200,000/s, Gaussian >= 50,000/s)\n\n${table(["scale / sigma", "discrete Laplace /s", "discrete Gaussian /s"], s.rows)}\n`,
  );
  log(`privacy: DP aggregates vs no noise over ${ROWS} sealed rows, ${RUNS} runs each`);
  const a = await aggregates(dp);
  process.stdout.write(
    `\n### DP aggregate vs the same aggregate without noise, ${ROWS.toLocaleString("en")}-row sealed CSV (median of ${RUNS}; target <= 1.3x)\n\n${table(["query", "no noise ms", "DP ms", "ratio", "<= 1.3x"], a.rows)}\n`,
  );
  log(`privacy: deep goodness of fit, ${FIT} samples per sampler and scale`);
  const f = await deepFit(dp);
  process.stdout.write(
    `\n### deep goodness of fit (chi-square at p = 0.001)\n\n${table(["sampler", "scale", "samples", "df", "chi-square", "critical", ""], f.rows, 1)}\n\n`,
  );
  writeFileSync(
    join(BENCH, "privacy-results.json"),
    JSON.stringify({ rows: ROWS, runs: RUNS, samplers: s.out, aggregates: a.out, fit: f.out }, null, 2) + "\n",
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPrivacy();
