#!/usr/bin/env node
// Posture benchmark: `pipeseal posture check` on a map with BENCH_POSTURE_FILES files (default 100,000)
// across four stores (a folder, a glob, a log folder, an unencrypted folder), target: under 60 s.
// Standalone: `node bench/posture.js` (after `npm run build`); also called from bench/run.js.
//
// Env: BENCH_POSTURE_FILES (default 100000)  BENCH_POSTURE_RUNS (default 3)  BENCH_KEEP=1
// Sealing 100,000 files would measure sealing, not posture: a few files are sealed for real with a
// real keystore and their bytes copied (posture reads only headers, which are real). 1% of the
// landing files are planted plaintext, so findings are built and reported too. Runs are on a warm
// page cache (the tree was just written); the report is the median of the runs.
// Progress on stderr, the report on stdout, raw data in bench/posture-results.json.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, log, median, runProc, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, ".work", "posture");
const CLI = join(ROOT, "dist", "cli", "main.js");
const TARGET_SECONDS = 60;

function cli(args, env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`pipeseal ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const MAP = `version: 1
name: bench-100k
keys: { home: ./keystore }
stages:
  landing:
    stores:
      - { id: landing, kind: folder, path: ./landing, classification: internal, key: bench/landing, context: { stage: landing }, retention: 365d }
  training:
    stores:
      - { id: training, kind: glob, path: "./training/**/*.pseal", classification: confidential, key: bench/training, retention: 365d }
  monitoring:
    stores:
      - { id: logs, kind: logs, path: ./logs, classification: internal, key: bench/logs, retention: 365d }
  processing:
    stores:
      - { id: scratch, kind: folder, path: ./scratch, classification: internal }
`;

function build(total) {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const env = { PIPESEAL_HOME: join(WORK, "keystore") };
  cli(["init"], env);
  for (const k of ["bench/landing", "bench/training", "bench/logs/payload"]) cli(["key", "create", k, "--rotate-every", "90d"], env);
  const sample = join(WORK, "sample.jsonl");
  writeFileSync(sample, '{"id":1,"score":0.5}\n'.repeat(20));
  const sealed = {};
  for (const [name, key, ctx] of [
    ["landing", "bench/landing", "stage=landing"],
    ["training", "bench/training", null],
    ["logs", "bench/logs/payload", null],
  ]) {
    const out = join(WORK, `${name}.pseal`);
    cli(["encrypt", sample, "-k", key, "-o", out, ...(ctx ? ["--context", ctx] : [])], env);
    sealed[name] = readFileSync(out);
  }
  const plain = readFileSync(sample);
  const scratch = Buffer.from('{"tmp":true}\n'); // not a copy of the planted plaintext (that would be LEAK-COPY)
  // 40% landing, 40% training, 10% logs, 10% unencrypted scratch; 1% of landing planted plaintext
  const plan = [
    [
      "landing",
      Math.round(total * 0.4),
      (i) => `landing/d${Math.floor(i / 1000)}/f${i}.jsonl${i % 100 === 0 ? "" : ".pseal"}`,
      (i) => (i % 100 === 0 ? plain : sealed.landing),
    ],
    ["training", Math.round(total * 0.4), (i) => `training/p${Math.floor(i / 1000)}/part-${i}.pseal`, () => sealed.training],
    ["logs", Math.round(total * 0.1), (i) => `logs/payload-${String(i).padStart(8, "0")}.jsonl.pseal`, () => sealed.logs],
    ["scratch", 0, (i) => `scratch/s${Math.floor(i / 1000)}/tmp-${i}.json`, () => scratch],
  ];
  plan[3][1] = total - plan[0][1] - plan[1][1] - plan[2][1];
  let made = 0;
  for (const [, count, name, bytes] of plan) {
    let lastDir = "";
    for (let i = 0; i < count; i++) {
      const rel = name(i);
      const dir = join(WORK, dirname(rel));
      if (dir !== lastDir) (mkdirSync(dir, { recursive: true }), (lastDir = dir));
      writeFileSync(join(WORK, rel), bytes(i));
      if (++made % 20000 === 0) log(`posture: ${made} / ${total} files written`);
    }
  }
  writeFileSync(join(WORK, "pipeline.yaml"), MAP);
  return { env, planted: Math.ceil(plan[0][1] / 100) };
}

export async function benchPosture() {
  const total = Number(process.env.BENCH_POSTURE_FILES ?? 100_000);
  const runs = Number(process.env.BENCH_POSTURE_RUNS ?? 3);
  log(`posture: generating ${total} files`);
  const { env, planted } = build(total);
  const results = [];
  for (let r = 0; r < runs; r++) {
    const res = await runProc(process.execPath, [CLI, "posture", "check", join(WORK, "pipeline.yaml"), "--json", "--fail-on", "critical"], {
      env: { ...process.env, ...env },
      stdout: "pipe",
    });
    const report = JSON.parse(res.stdout.toString("utf8"));
    const plaintext = report.findings.filter((f) => f.checkId === "REST-PLAINTEXT").length;
    if (report.stats.filesExamined !== total || plaintext !== planted)
      throw new Error(`posture bench: examined ${report.stats.filesExamined}/${total}, found ${plaintext}/${planted} planted`);
    results.push({
      seconds: res.seconds,
      files: report.stats.filesExamined,
      bytesRead: report.stats.bytesRead,
      findings: report.findings.length,
      rssKiB: res.rssKiB,
    });
    log(`posture: run ${r + 1}: ${fmt(res.seconds, 2)} s, ${report.findings.length} findings`);
  }
  const secs = median(results.map((x) => x.seconds));
  const summary = {
    files: total,
    runs,
    medianSeconds: secs,
    filesPerSecond: total / secs,
    bytesReadPerFile: results[0].bytesRead / total,
    targetSeconds: TARGET_SECONDS,
    pass: secs < TARGET_SECONDS,
    results,
  };
  writeFileSync(join(BENCH, "posture-results.json"), JSON.stringify(summary, null, 2) + "\n");
  process.stdout.write(`\n## Posture check (${total.toLocaleString("en")} files, median of ${runs}, warm cache)\n\n`);
  process.stdout.write(
    table(
      ["files", "total s", "files/s", "bytes read/file", "findings", "peak RSS MiB", `< ${TARGET_SECONDS} s`],
      [
        [
          String(total),
          fmt(secs, 2),
          fmt(total / secs, 0),
          fmt(results[0].bytesRead / total, 0),
          String(results[0].findings),
          results[0].rssKiB ? fmt(results[0].rssKiB / 1024, 0) : "n/a",
          summary.pass ? "PASS" : "FAIL",
        ],
      ],
    ) + "\n",
  );
  if (!process.env.BENCH_KEEP) rmSync(WORK, { recursive: true, force: true });
  return summary;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchPosture();
