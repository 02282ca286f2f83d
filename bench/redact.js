#!/usr/bin/env node
// Redaction benchmark: accuracy (precision/recall per detector on the labelled corpus, plus a
// held-out corpus from another seed) and throughput of `pipeseal` redaction against the npm
// package `redact-pii` (SyncRedactor, in-process, same input), with peak RSS.
//
// Env: BENCH_REDACT_MIB (JSON-lines log size, default 256; 1024 for the 1 GiB run)
//      BENCH_REDACT_RUNS (interleaved runs per measurement, median reported; default 3)
//      BENCH_REDACT_PII_MIB (slice given to redact-pii, default 8: it runs at ~2 MB/s, so a
//      whole 256 MiB file would take minutes; pipeseal is timed on the same slice too)
//      BENCH_KEEP=1 (keep bench/.work/redact.jsonl)
// Worker mode (one timed run in a fresh process, JSON on stdout):
//      node bench/redact.js --worker pipeseal|redact-pii FILE [LIMIT_BYTES]
import { spawnSync } from "node:child_process";
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, ".work");
const MiB = 1 << 20;
const MB = 1e6;
const log = (m) => process.stderr.write(`[bench redact] ${m}\n`);

// ---------------------------------------------------------------- worker mode
async function worker(kind, file, limit) {
  let bytes = 0;
  let findings = 0;
  let t0;
  let c0;
  if (kind === "pipeseal") {
    const { createRedactStream } = await import(join(ROOT, "dist/redact/index.js"));
    t0 = performance.now(); // module loading is not redaction; timed from here for both tools
    c0 = process.cpuUsage();
    const stream = createRedactStream();
    const src = createReadStream(file, { highWaterMark: MiB, ...(limit ? { end: limit - 1 } : {}) });
    src.on("data", (c) => (bytes += c.length));
    await pipeline(src, stream, new Writable({ write: (_c, _e, cb) => cb() }));
    findings = stream.redactor.stats.redacted;
  } else {
    const { SyncRedactor } = createRequire(import.meta.url)("redact-pii");
    const redactor = new SyncRedactor();
    t0 = performance.now();
    c0 = process.cpuUsage();
    const lines = createInterface({ input: createReadStream(file, { highWaterMark: MiB, ...(limit ? { end: limit - 1 } : {}) }), crlfDelay: Infinity });
    for await (const line of lines) {
      bytes += Buffer.byteLength(line) + 1;
      if (redactor.redact(line) !== line) findings++;
    }
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    JSON.stringify({
      kind,
      bytes,
      ms,
      mbps: bytes / MB / (ms / 1000),
      cpuMs,
      cpuMbps: bytes / MB / (cpuMs / 1000),
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      findings,
    }) + "\n",
  );
}

const argv = process.argv.slice(2);
if (argv[0] === "--worker") {
  await worker(argv[1], argv[2], argv[3] ? Number(argv[3]) : 0);
  process.exit(0);
}

// ---------------------------------------------------------------- JSON-lines log generator
function generateLog(file, size) {
  const r = mulberry32(42);
  const int = (n) => Math.floor(r() * n);
  const hex = (n) => Array.from({ length: n }, () => "0123456789abcdef"[int(16)]).join("");
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const svc = ["gateway", "retriever", "trainer", "featurizer", "registry"];
  const plain = [
    () => `request served in ${int(900)}ms`,
    () => `cache hit ratio 0.${int(99)} for shard ${int(64)}`,
    () => `epoch ${int(90)} step ${int(99999)} loss 0.${hex(4).replace(/\D/g, "7")}`,
    () => `loaded model resnet-${int(150)} sha256:${hex(64)}`,
    () => `retrieved ${int(20)} chunks for query ${uuid()}`,
    () => `commit ${hex(40)} deployed, version: 2.${int(9)}.${int(9)}.${int(9)}`,
  ];
  const pii = [
    () => `user ${["alice", "bob", "carol"][int(3)]}.${hex(4)}@example.org signed in from 8.${int(255)}.${int(255)}.${1 + int(250)}`,
    () => `charge failed for card 4539 1488 0343 6467 amount ${int(999)}`,
    () => `prompt: "my phone is +1 415-555-${String(int(9999)).padStart(4, "0")}, call me"`,
    () => `token ghp_${hex(36).replace(/[0-4]/g, "A")} used by ci`,
    () => `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.${hex(43)}`,
  ];
  const fd = openSync(file, "w");
  let written = 0;
  let t = 1_717_000_000_000;
  while (written < size) {
    const parts = [];
    let batch = 0;
    while (batch < MiB) {
      const msg = r() < 0.08 ? pii[int(pii.length)]() : plain[int(plain.length)]();
      const line =
        JSON.stringify({ level: 30, time: (t += int(50)), pid: 4242, hostname: "node-7", svc: svc[int(5)], req_id: uuid(), msg, latency_ms: int(2000) }) + "\n";
      parts.push(line);
      batch += line.length;
    }
    const buf = Buffer.from(parts.join(""));
    const n = Math.min(buf.length, size - written);
    writeSync(fd, buf, 0, n);
    written += n;
  }
  closeSync(fd);
}

function runWorker(kind, file, limit) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--worker", kind, file, String(limit ?? 0)], {
    encoding: "utf8",
    maxBuffer: 16 * MiB,
  });
  if (r.status !== 0) throw new Error(`${kind} worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

// ---------------------------------------------------------------- main
const out = [];
const targets = [];
const pct = (x) => x.toFixed(3);

// accuracy
const { detectAll } = await import(join(ROOT, "dist/redact/index.js"));
const { evaluateCorpus, TARGETS } = await import(join(ROOT, "test/corpus/evaluate.mjs"));
const acc = evaluateCorpus((t) => detectAll(t));
const heldDir = mkdtempSync(join(tmpdir(), "pipeseal-corpus-"));
spawnSync(process.execPath, [join(ROOT, "test/corpus/generate.mjs"), "--seed", "99", "--out", heldDir], { stdio: "ignore" });
const held = evaluateCorpus((t) => detectAll(t), heldDir);
rmSync(heldDir, { recursive: true, force: true });
out.push("", "Redaction accuracy (test/corpus/redact, labelled spans; held-out = fresh corpus from seed 99)");
out.push(`  ${"detector".padEnd(28)} ${"labels".padStart(6)} ${"prec".padStart(6)} ${"recall".padStart(6)}   held-out prec/recall`);
for (const [id, row] of Object.entries(acc.perDetector).sort()) {
  const h = held.perDetector[id] ?? { precision: NaN, recall: NaN };
  out.push(
    `  ${id.padEnd(28)} ${String(row.tp + row.fn).padStart(6)} ${pct(row.precision).padStart(6)} ${pct(row.recall).padStart(6)}   ${pct(h.precision)}/${pct(h.recall)}`,
  );
}
out.push(
  `  ${"overall".padEnd(28)} ${String(acc.overall.tp + acc.overall.fn).padStart(6)} ${pct(acc.overall.precision).padStart(6)} ${pct(acc.overall.recall).padStart(6)}   ${pct(held.overall.precision)}/${pct(held.overall.recall)}`,
);
const worst = Math.min(...Object.values(acc.perDetector).flatMap((r) => [r.precision, r.recall]));
targets.push({
  name: "redaction recall ≥ 0.98 overall",
  pass: acc.overall.recall >= TARGETS.recall && held.overall.recall >= TARGETS.recall,
  detail: `${pct(acc.overall.recall)} (held-out ${pct(held.overall.recall)})`,
});
targets.push({
  name: "redaction precision ≥ 0.95 overall",
  pass: acc.overall.precision >= TARGETS.precision && held.overall.precision >= TARGETS.precision,
  detail: `${pct(acc.overall.precision)} (held-out ${pct(held.overall.precision)})`,
});
targets.push({ name: "no detector under 0.90", pass: acc.pass && held.pass, detail: `worst ${pct(worst)}` });

// throughput
const SIZE_MIB = Number(process.env.BENCH_REDACT_MIB ?? 256);
const SLICE_MIB = Number(process.env.BENCH_REDACT_PII_MIB ?? 8);
mkdirSync(WORK, { recursive: true });
const LOG = join(WORK, "redact.jsonl");
if (!existsSync(LOG) || statSync(LOG).size !== SIZE_MIB * MiB) {
  log(`generating ${SIZE_MIB} MiB JSON-lines log`);
  generateLog(LOG, SIZE_MIB * MiB);
}
// The machine may be shared and noisy: each measurement runs BENCH_REDACT_RUNS times
// (default 3), interleaved so that load changes hit all three alike, and the median is reported.
const RUNS = Math.max(1, Number(process.env.BENCH_REDACT_RUNS ?? 3));
const runs = { full: [], slice: [], pii: [] };
for (let r = 1; r <= RUNS; r++) {
  log(`run ${r}/${RUNS}: pipeseal whole file, pipeseal ${SLICE_MIB} MiB slice, redact-pii ${SLICE_MIB} MiB slice`);
  runs.full.push(runWorker("pipeseal", LOG));
  runs.slice.push(runWorker("pipeseal", LOG, SLICE_MIB * MiB));
  runs.pii.push(runWorker("redact-pii", LOG, SLICE_MIB * MiB));
}
const median = (xs) => [...xs].sort((a, b) => a.mbps - b.mbps)[(xs.length - 1) >> 1];
const full = median(runs.full);
const slice = median(runs.slice);
const pii = median(runs.pii);
out.push(
  "",
  `Redaction throughput (JSON-lines log, ${SIZE_MIB} MiB; redact-pii timed on the first ${SLICE_MIB} MiB, see note; median of ${RUNS} interleaved runs)`,
);
out.push(`  ${"tool".padEnd(34)} ${"MiB".padStart(6)} ${"MB/s".padStart(8)} ${"peak RSS MiB".padStart(13)} ${"lines changed".padStart(14)}`);
const row = (name, r) =>
  out.push(
    `  ${name.padEnd(34)} ${(r.bytes / MiB).toFixed(0).padStart(6)} ${r.mbps.toFixed(2).padStart(8)} ${r.maxRssMiB.toFixed(0).padStart(13)} ${String(r.findings).padStart(14)}`,
  );
row("pipeseal createRedactStream", full);
row("pipeseal createRedactStream (slice)", slice);
row("redact-pii SyncRedactor (slice)", pii);
const ratio = full.mbps / pii.mbps;
const ratioSlice = slice.mbps / pii.mbps;
out.push(`  speed-up: ${ratio.toFixed(1)}× (whole file vs redact-pii slice), ${ratioSlice.toFixed(1)}× (same slice)`);
out.push(
  `  per run (whole / slice vs redact-pii): ${runs.full.map((f, i) => `${(f.mbps / runs.pii[i].mbps).toFixed(1)}×/${(runs.slice[i].mbps / runs.pii[i].mbps).toFixed(1)}×`).join(", ")}`,
);
out.push(
  `  CPU time (all threads): pipeseal ${full.cpuMbps.toFixed(1)} MB/s whole, ${slice.cpuMbps.toFixed(1)} MB/s slice; redact-pii ${pii.cpuMbps.toFixed(1)} MB/s`,
);
// The target is throughput on a large log: pipeseal's steady rate over the whole file against
// redact-pii's rate (a regex engine, steady from its first MiB, so its slice rate is its rate).
// The same-slice figure is printed too; it mostly measures pipeseal's JIT warm-up.
targets.push({
  name: "redaction ≥ 10× redact-pii (whole-file throughput)",
  pass: ratio >= 10,
  detail: `${ratio.toFixed(1)}× (same 8 MiB slice, warm-up included: ${ratioSlice.toFixed(1)}×)`,
});
targets.push({
  name: "redaction memory flat",
  pass: full.maxRssMiB < slice.maxRssMiB * 1.5 + 64,
  detail: `peak RSS ${full.maxRssMiB.toFixed(0)} MiB on ${SIZE_MIB} MiB vs ${slice.maxRssMiB.toFixed(0)} MiB on ${SLICE_MIB} MiB`,
});

out.push("", "Redaction targets");
for (const t of targets) out.push(`  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
out.push(
  "",
  "note: redact-pii runs at about 2 MB/s, so it is timed on a fixed slice of the same file (BENCH_REDACT_PII_MIB);",
  "      the slice figure includes pipeseal's JIT warm-up (its first MiB costs several warm MiB), the whole-file one is steady state;",
  "      'lines changed' counts lines either tool altered (redact-pii also rewrites timestamps, UUID digits and",
  "      hashes as DIGITS/PHONE_NUMBER, which pipeseal deliberately leaves alone).",
);
process.stdout.write(out.join("\n") + "\n");
if (process.env.BENCH_KEEP !== "1") rmSync(LOG, { force: true });
