#!/usr/bin/env node
// pipeseal benchmark: pipeseal vs age vs AWS Encryption SDK vs openssl, one run, same files.
// See bench/README.md. Progress goes to stderr, the report to stdout, raw data to bench/results.json.
//
// Env: BENCH_SIZE_MIB (default 1024)  BENCH_RUNS (default 3)  BENCH_READS (default 200)
//      BENCH_RANGE_RUNS (default 11)  BENCH_KEEP=1 (keep bench/.work data)  BENCH_SWEEP=1
//      BENCH_AWS_FRAME (AWS frameLength, default: SDK default 4096)
//      BENCH_CRYPT_ONLY=1 (stop after the encrypt/decrypt report)
// Flags: --sweep  --runs N  --size MIB  --crypt-only
import { spawnSync } from "node:child_process";
import { randomFillSync, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MB, MiB, TIME_BIN, assertDevNull, fmt, log, median, percentile, rmIfExists, runProc, runWorker, sync, table, which } from "./lib.js";
import * as ps from "./pipeseal.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, ".work");
const AWS_WORKER = join(BENCH, "workers", "aws.js");
const PS_WORKER = join(BENCH, "workers", "pipeseal.js");

// ---------------------------------------------------------------- config
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
if (flag("--help") || flag("-h")) {
  process.stdout.write(
    "usage: node bench/run.js [--sweep] [--runs N] [--size MIB] [--crypt-only]\n" +
      "env: BENCH_SIZE_MIB BENCH_RUNS BENCH_READS BENCH_RANGE_RUNS BENCH_SWEEP=1 BENCH_KEEP=1 BENCH_AWS_FRAME BENCH_CRYPT_ONLY=1\n",
  );
  process.exit(0);
}
const SIZE_MIB = Number(opt("--size") ?? process.env.BENCH_SIZE_MIB ?? 1024);
const RUNS = Number(opt("--runs") ?? process.env.BENCH_RUNS ?? 3);
const READS = Number(process.env.BENCH_READS ?? 200);
const RANGE_RUNS = Number(process.env.BENCH_RANGE_RUNS ?? 11);
const SWEEP = flag("--sweep") || process.env.BENCH_SWEEP === "1";
const KEEP = process.env.BENCH_KEEP === "1";
const CRYPT_ONLY = flag("--crypt-only") || process.env.BENCH_CRYPT_ONLY === "1";
const AWS_FRAME = process.env.BENCH_AWS_FRAME ? Number(process.env.BENCH_AWS_FRAME) : undefined;
const READ_LEN = 64 * 1024;
const SEGMENTS = [16, 64, 256, 1024, 4096].map((k) => k * 1024);
if (!(SIZE_MIB > 0) || !(RUNS >= 1)) {
  process.stderr.write("BENCH_SIZE_MIB and BENCH_RUNS must be positive numbers\n");
  process.exit(2);
}
const SIZE = SIZE_MIB * MiB;

const P = (name) => join(WORK, name);
const PLAIN = P("plain.bin");
const PS_HOME = P("pipeseal-home");
const PS_ENV = { ...process.env, PIPESEAL_HOME: PS_HOME };

// ---------------------------------------------------------------- tool discovery
const notes = [];
const skip = (what, why) => {
  const m = `SKIPPED ${what}: ${why}`;
  notes.push(m);
  log(m);
};
function version(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (r.stdout || r.stderr || "").trim().split("\n")[0];
}

const tools = {};
tools.age = which("age") && which("age-keygen");
if (!tools.age) skip("age", "not installed — install with: apt-get update && apt-get install -y age");
tools.openssl = which("openssl");
if (!tools.openssl) skip("openssl speed", "openssl not installed — apt-get install -y openssl");
try {
  await import("@aws-crypto/client-node");
  tools.aws = true;
} catch {
  tools.aws = false;
  skip("AWS Encryption SDK", "not installed — install with: npm install --save-dev @aws-crypto/client-node");
}
const probe = await ps.probe();
tools.pipeseal = probe.ok;
if (!probe.ok) skip("pipeseal", probe.reason);
if (!TIME_BIN) notes.push("/usr/bin/time missing (apt-get install -y time): peak RSS polled from /proc VmHWM every 20 ms");

const meta = {
  date: new Date().toISOString(),
  sizeMiB: SIZE_MIB,
  runs: RUNS,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  age: tools.age ? version("age", ["--version"]) : null,
  openssl: tools.openssl ? version("openssl", ["version"]) : null,
  awsSdk: tools.aws ? readPkgVersion("@aws-crypto/client-node") : null,
  awsFrameLength: AWS_FRAME ?? 4096,
  pipesealCommit: spawnSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim(),
  pageCache: "warm (files just written/read; 24 GiB RAM host)",
};
function readPkgVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

// ---------------------------------------------------------------- test data
mkdirSync(WORK, { recursive: true });
log(`generating ${SIZE_MIB} MiB of random plaintext in ${PLAIN}`);
{
  const fd = openSync(PLAIN, "w");
  const buf = Buffer.allocUnsafe(8 * MiB);
  for (let left = SIZE; left > 0;) {
    const n = Math.min(left, buf.length);
    randomFillSync(buf, 0, n);
    writeSync(fd, buf, 0, n);
    left -= n;
  }
  closeSync(fd);
}
sync();

// ---------------------------------------------------------------- set-up per tool
let ageRecipient = null;
const AGE_KEY = P("age-key.txt");
if (tools.age) {
  rmIfExists(AGE_KEY);
  await runProc("age-keygen", ["-o", AGE_KEY], { rss: false });
  ageRecipient = (await runProc("age-keygen", ["-y", AGE_KEY], { stdout: "pipe", rss: false })).stdout.toString().trim();
}
const AWS_KEY = P("aws-wrapping.key");
if (tools.aws) writeFileSync(AWS_KEY, randomBytes(32));

if (tools.pipeseal) {
  try {
    rmSync(PS_HOME, { recursive: true, force: true });
    mkdirSync(PS_HOME, { recursive: true });
    await runProc("node", [ps.CLI, ...ps.cli.init()], { env: PS_ENV, rss: false });
    await runProc("node", [ps.CLI, ...ps.cli.keyCreate()], { env: PS_ENV, rss: false });
  } catch (e) {
    tools.pipeseal = false;
    skip("pipeseal", `keystore set-up failed: ${e.message}`);
  }
}

// ---------------------------------------------------------------- openssl one-core limit
const results = { meta, notes, throughput: [], randomRead: null, rangeCli: null, sweep: null, targets: [] };
let opensslMBs = null;
if (tools.openssl) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    log(`openssl speed -evp aes-256-gcm -bytes 1048576 -seconds 3 (run ${i + 1}/${RUNS})`);
    const r = await runProc("openssl", ["speed", "-mr", "-evp", "aes-256-gcm", "-bytes", "1048576", "-seconds", "3"], { stdout: "pipe", rss: false });
    const m = /\+F:\d+:[^:]+:([\d.]+)/.exec(r.stdout.toString());
    if (m) samples.push(Number(m[1]) / MB);
  }
  opensslMBs = median(samples);
  results.throughput.push({
    id: "openssl",
    tool: "openssl speed",
    op: "aes-256-gcm",
    path: "memory, 1 MiB blocks, 1 core",
    samplesMBs: samples,
    mbps: opensslMBs,
  });
}

// ---------------------------------------------------------------- throughput cases
// Each case returns { seconds, rssKiB }. CLI cases are timed wall-clock (process start included);
// library cases are timed inside a fresh Node process (module load + keystore open excluded).
const cases = [];
const cliCase = (id, tool, op, path, cmd, args, { out, stdout, env = {} } = {}) =>
  cases.push({
    id,
    tool,
    op,
    path,
    kind: "cli",
    out,
    run: async () => {
      const r = await runProc(cmd, args, { env: { ...PS_ENV, ...env }, stdout });
      return { seconds: r.seconds, rssKiB: r.rssKiB, cpuSeconds: r.cpuSeconds };
    },
  });
const workerCase = (id, tool, op, path, script, args, { out, env = {} } = {}) =>
  cases.push({
    id,
    tool,
    op,
    path,
    kind: "lib",
    out,
    run: async () => {
      const r = await runWorker(script, args, { env: { ...PS_ENV, BENCH_PLAIN_BYTES: String(SIZE), ...env } });
      return { seconds: r.seconds, rssKiB: r.maxRssKiB };
    },
  });

const DEVNULL = "file→/dev/null";
const FILE = "file→file";
const PIPE = "cat | stdin→/dev/null";
// encrypt cases first: their file→file outputs are the inputs of the decrypt cases
if (tools.age) {
  cliCase("age-enc-null", "age (CLI)", "encrypt", DEVNULL, "age", ["-r", ageRecipient, "-o", "/dev/null", PLAIN]);
  cliCase("age-enc-file", "age (CLI)", "encrypt", FILE, "age", ["-r", ageRecipient, "-o", P("age.age"), PLAIN], {
    out: P("age.age"),
  });
  cliCase("age-pipe-enc-null", "age (CLI)", "encrypt", PIPE, "sh", ["-c", 'cat "$1" | age -r "$2" > /dev/null', "sh", PLAIN, ageRecipient]);
}
if (tools.aws) {
  const fr = AWS_FRAME ? [String(AWS_FRAME)] : [];
  workerCase("aws-enc-null", "AWS Encryption SDK (lib)", "encrypt", DEVNULL, AWS_WORKER, ["enc", AWS_KEY, PLAIN, "/dev/null", ...fr]);
}
if (tools.pipeseal) {
  cliCase("ps-cli-enc-null", "pipeseal (CLI)", "encrypt", DEVNULL, "node", [ps.CLI, ...ps.cli.encrypt(PLAIN, "-")]);
  // the reference engine (node:crypto), what a machine without the native addon runs
  cliCase("ps-ref-enc-null", "pipeseal (CLI, reference)", "encrypt", DEVNULL, "node", [ps.CLI, ...ps.cli.encrypt(PLAIN, "-")], {
    env: { PIPESEAL_ENGINE: "reference" },
  });
  // stdin from a pipe, stdout to /dev/null: must be as fast as the file path
  cliCase("ps-pipe-enc-null", "pipeseal (CLI)", "encrypt", PIPE, "sh", [
    "-c",
    `cat "$1" | node "$2" ${ps.cli.encrypt("-", "-").join(" ")}`,
    "sh",
    PLAIN,
    ps.CLI,
  ]);
  cliCase("ps-cli-enc-file", "pipeseal (CLI)", "encrypt", FILE, "node", [ps.CLI, ...ps.cli.encrypt(PLAIN, P("cli.pseal"))], {
    out: P("cli.pseal"),
  });
  workerCase("ps-lib-enc-null", "pipeseal (lib)", "encrypt", DEVNULL, PS_WORKER, ["enc", PS_HOME, PLAIN, "/dev/null"]);
  workerCase("ps-lib-enc-file", "pipeseal (lib)", "encrypt", FILE, PS_WORKER, ["enc", PS_HOME, PLAIN, P("lib.pseal")], {
    out: P("lib.pseal"),
  });
  workerCase("ps-libref-enc-null", "pipeseal (lib, reference)", "encrypt", DEVNULL, PS_WORKER, ["enc", PS_HOME, PLAIN, "/dev/null"], {
    env: { PIPESEAL_ENGINE: "reference" },
  });
}
if (tools.age) {
  cliCase("age-dec-null", "age (CLI)", "decrypt", DEVNULL, "age", ["-d", "-i", AGE_KEY, "-o", "/dev/null", P("age.age")]);
  cliCase("age-dec-file", "age (CLI)", "decrypt", FILE, "age", ["-d", "-i", AGE_KEY, "-o", P("age.dec"), P("age.age")], {
    out: P("age.dec"),
  });
  cliCase("age-pipe-dec-null", "age (CLI)", "decrypt", PIPE, "sh", ["-c", 'cat "$1" | age -d -i "$2" > /dev/null', "sh", P("age.age"), AGE_KEY]);
}
if (tools.aws) {
  workerCase("aws-dec-null", "AWS Encryption SDK (lib)", "decrypt", DEVNULL, AWS_WORKER, ["dec", AWS_KEY, P("aws.enc"), "/dev/null"]);
}
if (tools.pipeseal) {
  cliCase("ps-cli-dec-null", "pipeseal (CLI)", "decrypt", DEVNULL, "node", [ps.CLI, ...ps.cli.decrypt(P("cli.pseal"), "-")]);
  cliCase("ps-ref-dec-null", "pipeseal (CLI, reference)", "decrypt", DEVNULL, "node", [ps.CLI, ...ps.cli.decrypt(P("cli.pseal"), "-")], {
    env: { PIPESEAL_ENGINE: "reference" },
  });
  cliCase("ps-pipe-dec-null", "pipeseal (CLI)", "decrypt", PIPE, "sh", [
    "-c",
    `cat "$1" | node "$2" ${ps.cli.decrypt("-", "-").join(" ")}`,
    "sh",
    P("cli.pseal"),
    ps.CLI,
  ]);
  cliCase("ps-cli-dec-file", "pipeseal (CLI)", "decrypt", FILE, "node", [ps.CLI, ...ps.cli.decrypt(P("cli.pseal"), P("cli.dec"))], {
    out: P("cli.dec"),
  });
  workerCase("ps-lib-dec-null", "pipeseal (lib)", "decrypt", DEVNULL, PS_WORKER, ["dec", PS_HOME, P("lib.pseal"), "/dev/null"]);
  workerCase("ps-lib-dec-file", "pipeseal (lib)", "decrypt", FILE, PS_WORKER, ["dec", PS_HOME, P("lib.pseal"), P("lib.dec")], {
    out: P("lib.dec"),
  });
  workerCase("ps-libref-dec-null", "pipeseal (lib, reference)", "decrypt", DEVNULL, PS_WORKER, ["dec", PS_HOME, P("lib.pseal"), "/dev/null"], {
    env: { PIPESEAL_ENGINE: "reference" },
  });
}

if (tools.aws) {
  // The AWS decrypt input: one untimed file→file encryption (not a reported figure).
  log("AWS SDK: preparing ciphertext for the decrypt runs");
  try {
    const fr = AWS_FRAME ? [String(AWS_FRAME)] : [];
    await runWorker(AWS_WORKER, ["enc", AWS_KEY, PLAIN, P("aws.enc"), ...fr]);
  } catch (e) {
    skip("AWS Encryption SDK", e.message);
    for (let i = cases.length - 1; i >= 0; i--) if (cases[i].id.startsWith("aws-")) cases.splice(i, 1);
  }
}

const samples = new Map(cases.map((c) => [c.id, { s: [], rss: [], cpu: [], error: null }]));
// Round-robin: every tool gets one sample per round, so slow drifts in machine load hit all alike.
for (let round = 1; round <= RUNS; round++) {
  for (const c of cases) {
    const st = samples.get(c.id);
    if (st.error) continue;
    if (c.out) rmIfExists(c.out); // fresh output file, and no dirty pages from the last run
    sync();
    log(`round ${round}/${RUNS}: ${c.tool} ${c.op} ${c.path}`);
    try {
      const r = await c.run();
      st.s.push(r.seconds);
      if (r.rssKiB) st.rss.push(r.rssKiB);
      if (r.cpuSeconds != null) st.cpu.push(r.cpuSeconds);
    } catch (e) {
      st.error = e.message;
      log(`  FAILED: ${e.message}`);
    }
    assertDevNull();
  }
}

// correctness: file→file decrypt outputs must equal the plaintext
const verified = {};
for (const [id, f] of [
  ["age-dec-file", "age.dec"],
  ["ps-cli-dec-file", "cli.dec"],
  ["ps-lib-dec-file", "lib.dec"],
]) {
  if (!samples.has(id) || samples.get(id).error) continue;
  const r = spawnSync("cmp", ["-s", PLAIN, P(f)]);
  verified[id] = r.status === 0;
  if (r.status !== 0) notes.push(`VERIFY FAILED: ${id} output differs from plaintext`);
  rmIfExists(P(f));
}

for (const c of cases) {
  const st = samples.get(c.id);
  const med = median(st.s);
  results.throughput.push({
    id: c.id,
    tool: c.tool,
    op: c.op,
    path: c.path,
    kind: c.kind,
    samplesSeconds: st.s,
    medianSeconds: med,
    mbps: st.s.length ? SIZE / MB / med : null,
    peakRssMiB: st.rss.length ? Math.max(...st.rss) / 1024 : null,
    // user + system CPU of the whole process (all threads): what a tool costs, whoever else runs
    medianCpuSeconds: st.cpu.length ? median(st.cpu) : null,
    verified: verified[c.id],
    error: st.error,
  });
}
const T = (id) => results.throughput.find((r) => r.id === id);

// ---------------------------------------------------------------- random read
if (tools.pipeseal && T("ps-lib-enc-file")?.mbps) {
  log(`random read: ${READS} × 64 KiB at random offsets, sealed (open reader) vs plaintext (fs read)`);
  try {
    const r = await runWorker(PS_WORKER, ["randread", PS_HOME, P("lib.pseal"), PLAIN, String(READS), String(READ_LEN), "42"], {
      env: PS_ENV,
    });
    results.randomRead = summarizeReads(r);
  } catch (e) {
    notes.push(`random read failed: ${e.message}`);
    log(`  FAILED: ${e.message}`);
  }
}
function summarizeReads(r) {
  return {
    reads: r.count,
    readBytes: r.len,
    openMs: r.openMs,
    sealed: { medianMs: median(r.sealedMs), p95Ms: percentile(r.sealedMs, 95) },
    plain: { medianMs: median(r.plainMs), p95Ms: percentile(r.plainMs, 95) },
    ratioMedian: median(r.sealedMs) / median(r.plainMs),
    ratioP95: percentile(r.sealedMs, 95) / percentile(r.plainMs, 95),
    verified: r.verified,
  };
}

// ---------------------------------------------------------------- in-process engines vs openssl speed
// The segment engine alone, in memory (bench/workers/engine.js): native on 1 core (its synchronous
// call) and on 2 (the thread pool), the reference (node:crypto) on 1; % of `openssl speed` per core used.
if (tools.pipeseal) {
  const ENGINE_WORKER = join(BENCH, "workers", "engine.js");
  const work = String(Math.min(SIZE_MIB, 1024));
  const configs = [
    ["native", 1],
    ["native", 2],
    ["reference", 1],
  ];
  const runs = new Map();
  try {
    for (let round = 1; round <= RUNS; round++) {
      for (const op of ["seal", "open"]) {
        for (const [engine, cores] of configs) {
          log(`round ${round}/${RUNS}: engine ${engine} ${op}, ${cores} core(s), ${work} MiB in memory`);
          const r = await runWorker(ENGINE_WORKER, [op, engine, String(cores), work]);
          const key = `${op}/${engine}/${cores}`;
          if (!runs.has(key)) runs.set(key, { op, engine, cores, mbps: [], cpuMbps: [], description: r.engineDescription });
          runs.get(key).mbps.push(r.bytes / MB / r.seconds);
          runs.get(key).cpuMbps.push(r.bytes / MB / r.cpuSeconds);
        }
      }
    }
    // per core used: bytes per user-CPU second (openssl speed's own divisor), so a loaded machine does not hide the engine's speed
    results.engine = [...runs.values()].map((x) => ({
      ...x,
      medianMBs: median(x.mbps),
      cpuMBs: median(x.cpuMbps),
      perCoreOfOpenssl: opensslMBs ? median(x.cpuMbps) / opensslMBs : null,
      wallPerCoreOfOpenssl: opensslMBs ? median(x.mbps) / x.cores / opensslMBs : null,
    }));
  } catch (e) {
    notes.push(`in-process engine figures failed: ${e.message}`);
    log(`  FAILED: ${e.message}`);
  }
}

// CLI --range (process start included) vs dd of the plaintext
if (tools.pipeseal && T("ps-cli-enc-file")?.mbps) {
  log(`CLI range read: ${RANGE_RUNS} × (pipeseal decrypt --range, dd, node -e 0)`);
  const fd = openSync(PLAIN, "r");
  try {
    // correctness once
    const off0 = Math.floor(Math.random() * (SIZE - READ_LEN));
    const got = (
      await runProc("node", [ps.CLI, ...ps.cli.range(P("cli.pseal"), off0, READ_LEN)], {
        env: PS_ENV,
        stdout: "pipe",
        rss: false,
      })
    ).stdout;
    const want = Buffer.alloc(READ_LEN);
    readSync(fd, want, 0, READ_LEN, off0);
    const ok = got.equals(want);
    if (!ok) notes.push(`VERIFY FAILED: CLI --range ${off0}:${READ_LEN} returned ${got.length} bytes not matching plaintext`);
    const t = { pipeseal: [], dd: [], node: [] };
    for (let i = 0; i < RANGE_RUNS; i++) {
      const off = Math.floor(Math.random() * (SIZE - READ_LEN));
      t.pipeseal.push((await runProc("node", [ps.CLI, ...ps.cli.range(P("cli.pseal"), off, READ_LEN)], { env: PS_ENV, rss: false })).seconds);
      t.dd.push(
        (
          await runProc("dd", [`if=${PLAIN}`, "of=/dev/null", `bs=${READ_LEN}`, "count=1", `skip=${off}`, "iflag=skip_bytes,count_bytes"], {
            rss: false,
          })
        ).seconds,
      );
      t.node.push((await runProc("node", ["-e", "0"], { rss: false })).seconds);
    }
    const ms = (xs) => median(xs) * 1e3;
    results.rangeCli = {
      runs: RANGE_RUNS,
      pipesealMs: ms(t.pipeseal),
      ddMs: ms(t.dd),
      nodeStartMs: ms(t.node),
      verified: ok,
    };
  } catch (e) {
    notes.push(`CLI range read failed: ${e.message}`);
    log(`  FAILED: ${e.message}`);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- segment-length sweep
if (SWEEP && tools.pipeseal) {
  results.sweep = [];
  for (const seg of SEGMENTS) {
    const row = { segmentLength: seg };
    try {
      const s = [];
      for (let i = 0; i < RUNS; i++) {
        log(`sweep: segment ${seg / 1024} KiB encrypt → /dev/null (run ${i + 1}/${RUNS})`);
        s.push((await runWorker(PS_WORKER, ["enc", PS_HOME, PLAIN, "/dev/null", String(seg)], { env: PS_ENV })).seconds);
        assertDevNull();
      }
      row.encryptMBs = SIZE / MB / median(s);
      row.samplesSeconds = s;
      rmIfExists(P("sweep.pseal"));
      sync();
      log(`sweep: segment ${seg / 1024} KiB encrypt → file, then random reads`);
      await runWorker(PS_WORKER, ["enc", PS_HOME, PLAIN, P("sweep.pseal"), String(seg)], { env: PS_ENV });
      row.sealedOverheadPct = ((statSync(P("sweep.pseal")).size - SIZE) / SIZE) * 100;
      const r = await runWorker(PS_WORKER, ["randread", PS_HOME, P("sweep.pseal"), PLAIN, String(READS), String(READ_LEN), "7"], {
        env: PS_ENV,
      });
      row.randomRead = summarizeReads(r);
    } catch (e) {
      row.error = e.message;
      log(`  FAILED: ${e.message}`);
    }
    results.sweep.push(row);
  }
  rmIfExists(P("sweep.pseal"));
  const ovh = new Set(results.sweep.filter((s) => !s.error).map((s) => s.sealedOverheadPct.toFixed(6)));
  if (results.sweep.filter((s) => !s.error).length > 1 && ovh.size === 1) {
    notes.push("sweep: sealed size is identical for every segment length — the segment option seems ignored (check bench/pipeseal.js)");
  }
}

// ---------------------------------------------------------------- targets
const target = (name, value, limit, pass, detail) => results.targets.push({ name, value, limit, pass, detail });
const ratio = (a, b) => (a?.mbps && b?.mbps ? a.mbps / b.mbps : null);
if (tools.pipeseal) {
  for (const op of ["enc", "dec"]) {
    const r = ratio(T(`ps-cli-${op}-null`), T(`age-${op}-null`));
    target(
      `CLI ${op === "enc" ? "encrypt" : "decrypt"} → /dev/null ≥ 2× age`,
      r,
      2,
      r !== null ? r >= 2 : null,
      r !== null ? `${fmt(r, 2)}× age` : "age or pipeseal figure missing",
    );
  }
  for (const op of ["enc", "dec"]) {
    const r = ratio(T(`ps-pipe-${op}-null`), T(`ps-cli-${op}-null`));
    target(
      `CLI ${op === "enc" ? "encrypt" : "decrypt"} from a pipe ≥ 0.9× from a file`,
      r,
      0.9,
      r !== null ? r >= 0.9 : null,
      r !== null ? `${fmt(r, 2)}× (vs age from a pipe: ${fmt(ratio(T(`ps-pipe-${op}-null`), T(`age-pipe-${op}-null`)) ?? NaN, 2)}×)` : "figure missing",
    );
  }
  for (const op of ["seal", "open"]) {
    for (const cores of [1, 2]) {
      const x = results.engine?.find((e) => e.op === op && e.engine === "native" && e.cores === cores);
      const r = x?.perCoreOfOpenssl ?? null;
      target(
        `in-process native ${op}, ${cores} core(s) ≥ 60% of openssl 1-core per core`,
        r,
        0.6,
        r !== null ? r >= 0.6 : null,
        r !== null
          ? `${fmt(r * 100, 0)}% per core used (${fmt(x.cpuMBs, 0)} MB per CPU-second, ${fmt(x.medianMBs, 0)} MB/s wall; openssl ${fmt(opensslMBs, 0)} MB/s)`
          : "figure missing",
      );
    }
  }
  const rr = results.randomRead;
  target(
    "64 KiB random read < 3× plaintext (median)",
    rr?.ratioMedian ?? null,
    3,
    rr ? rr.ratioMedian < 3 : null,
    rr ? `${fmt(rr.ratioMedian, 2)}× (p95 ${fmt(rr.ratioP95, 2)}×)` : "figure missing",
  );
  const rss =
    Math.max(
      ...["ps-cli-enc-null", "ps-cli-enc-file", "ps-cli-dec-null", "ps-cli-dec-file", "ps-pipe-enc-null", "ps-pipe-dec-null"].map(
        (id) => T(id)?.peakRssMiB ?? 0,
      ),
    ) || null;
  target(
    `CLI encrypt/decrypt ${SIZE_MIB} MiB peak RSS < 200 MiB`,
    rss,
    200,
    rss !== null ? rss < 200 : null,
    rss !== null ? `${fmt(rss, 0)} MiB` : "figure missing",
  );
}

// ---------------------------------------------------------------- report
const out = [];
const age = (op, path) => T(`age-${path === PIPE ? "pipe-" : ""}${op === "encrypt" ? "enc" : "dec"}-${path === FILE ? "file" : "null"}`);
const aws = (op) => T(`aws-${op === "encrypt" ? "enc" : "dec"}-null`);
out.push(`pipeseal benchmark — ${SIZE_MIB} MiB random file, median of ${RUNS} run(s), ${meta.cores} cores (${meta.cpu}), node ${meta.node}`);
out.push(
  `peers: ${meta.age ? `age ${meta.age}` : "age n/a"}; ${meta.awsSdk ? `@aws-crypto/client-node ${meta.awsSdk} (frame ${meta.awsFrameLength} B)` : "AWS SDK n/a"}; ${meta.openssl ?? "openssl n/a"}; pipeseal @ ${meta.pipesealCommit}`,
);
out.push("MB/s = 10^6 plaintext bytes per second. CLI rows include process start; lib rows time the call inside a fresh process.");
out.push("");
const rows = results.throughput.map((r) => {
  if (r.id === "openssl") return [r.tool, r.op, r.path, "-", "-", fmt(r.mbps, 0), "-", "-", "-", "-", "100%", "-"];
  const a = age(r.op, r.path);
  const w = aws(r.op);
  const spread = r.samplesSeconds?.length > 1 ? ((Math.max(...r.samplesSeconds) - Math.min(...r.samplesSeconds)) / r.medianSeconds) * 100 : null;
  return [
    r.tool,
    r.op,
    r.path,
    r.error ? "FAILED" : fmt(r.medianSeconds, 2),
    r.medianCpuSeconds == null ? "-" : fmt(r.medianCpuSeconds, 2),
    fmt(r.mbps, 0),
    spread === null ? "-" : `${fmt(spread, 0)}%`,
    r.id.startsWith("age") ? "1.00×" : ratio(r, a) ? `${fmt(ratio(r, a), 2)}×` : "-",
    r.id.startsWith("age") ? "1.00×" : a?.medianCpuSeconds && r.medianCpuSeconds ? `${fmt(a.medianCpuSeconds / r.medianCpuSeconds, 2)}×` : "-",
    ratio(r, w) && r.path === DEVNULL ? `${fmt(ratio(r, w), 2)}×` : "-",
    opensslMBs && r.mbps ? `${fmt((r.mbps / opensslMBs) * 100, 0)}%` : "-",
    r.peakRssMiB ? fmt(r.peakRssMiB, 0) : "-",
  ];
});
out.push(table(["tool", "op", "path", "median s", "CPU s", "MB/s", "spread", "vs age", "CPU vs age", "vs AWS", "% openssl", "RSS MiB"], rows, 3));
out.push("CPU s = user + system seconds of the whole process (CLI rows; /usr/bin/time): unlike wall time, other tenants of a loaded machine do not move it.");
const bad = results.throughput.filter((r) => r.error);
for (const r of bad) out.push(`  ! ${r.id}: ${r.error}`);
const ver = Object.entries(verified);
if (ver.length) out.push(`round-trip check (cmp plaintext vs file→file decrypt output): ${ver.map(([k, v]) => `${k} ${v ? "ok" : "MISMATCH"}`).join(", ")}`);

if (results.engine?.length) {
  out.push("");
  out.push(`In-process seal/open, the engine alone in memory (4 MiB batches of 64 KiB segments), median of ${RUNS}, vs openssl speed one core in the same run`);
  out.push(
    table(
      ["engine", "op", "cores", "MB/s (wall)", "MB per CPU-second", "per core used % openssl", "wall ÷ cores % openssl"],
      results.engine.map((e) => [
        e.engine,
        e.op,
        String(e.cores),
        fmt(e.medianMBs, 0),
        fmt(e.cpuMBs, 0),
        e.perCoreOfOpenssl ? `${fmt(e.perCoreOfOpenssl * 100, 0)}%` : "-",
        e.wallPerCoreOfOpenssl ? `${fmt(e.wallPerCoreOfOpenssl * 100, 0)}%` : "-",
      ]),
    ),
  );
  const d = results.engine.find((e) => e.engine === "native")?.description;
  if (d) out.push(`engine: ${d}`);
}
if (results.randomRead) {
  const r = results.randomRead;
  out.push("");
  out.push(`Random read: ${r.reads} × 64 KiB at random (unaligned) offsets, warm page cache, already-open handles; reader open took ${fmt(r.openMs, 2)} ms`);
  out.push(
    table(
      ["source", "median ms", "p95 ms"],
      [
        ["pipeseal openSealedFile().read", fmt(r.sealed.medianMs, 3), fmt(r.sealed.p95Ms, 3)],
        ["plaintext fs read", fmt(r.plain.medianMs, 3), fmt(r.plain.p95Ms, 3)],
        ["ratio", `${fmt(r.ratioMedian, 2)}×`, `${fmt(r.ratioP95, 2)}×`],
      ],
    ),
  );
}
if (results.rangeCli) {
  const r = results.rangeCli;
  out.push(
    `CLI: decrypt --range OFF:65536 -o - → ${fmt(r.pipesealMs, 0)} ms vs dd of plaintext ${fmt(r.ddMs, 1)} ms (median of ${r.runs}, process start included; bare \`node -e 0\` = ${fmt(r.nodeStartMs, 0)} ms)${r.verified ? "" : "  OUTPUT MISMATCH"}`,
  );
}
if (results.sweep) {
  out.push("");
  out.push(`Segment-length sweep (in-process encrypt → /dev/null, median of ${RUNS}; 64 KiB random reads, ${READS} reads)`);
  out.push(
    table(
      ["segment", "encrypt MB/s", "% openssl", "size overhead", "read median ms", "read p95 ms", "vs plaintext"],
      results.sweep.map((s) =>
        s.error
          ? [`${s.segmentLength / 1024} KiB`, "FAILED", s.error.slice(0, 60)]
          : [
              `${s.segmentLength / 1024} KiB`,
              fmt(s.encryptMBs, 0),
              opensslMBs ? `${fmt((s.encryptMBs / opensslMBs) * 100, 0)}%` : "-",
              `${fmt(s.sealedOverheadPct, 3)}%`,
              fmt(s.randomRead.sealed.medianMs, 3),
              fmt(s.randomRead.sealed.p95Ms, 3),
              `${fmt(s.randomRead.ratioMedian, 2)}×`,
            ],
      ),
    ),
  );
}
if (results.targets.length) {
  out.push("");
  out.push("Targets");
  for (const t of results.targets) {
    out.push(`  ${t.pass === null ? "N/A " : t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
  }
}
if (notes.length) {
  out.push("");
  for (const n of notes) out.push(`note: ${n}`);
}
process.stdout.write(out.join("\n") + "\n");
writeFileSync(join(BENCH, "results.json"), JSON.stringify(results, null, 2) + "\n");
log(`wrote ${join(BENCH, "results.json")}`);

if (!KEEP) {
  for (const f of ["plain.bin", "age.age", "aws.enc", "cli.pseal", "lib.pseal"]) rmIfExists(P(f));
  log("removed bench/.work data files (BENCH_KEEP=1 keeps them)");
}
if (!existsSync("/dev/null")) process.exitCode = 1;
if (CRYPT_ONLY) process.exit(); // --crypt-only: the sections below have their own reports

// transit benchmark (mTLS vs plain HTTPS), its own processes and report; see bench/transit.js
spawnSync(process.execPath, [join(BENCH, "transit.js")], { stdio: "inherit" });
await (await import("./scan.js")).benchScan(); // secret scan vs secretlint (bench/scan.js), own section and bench/scan-results.json
await (await import("./artifacts.js")).benchArtifacts(); // model signing vs sha256sum, registry push/pull (bench/artifacts.js, bench/artifacts-results.json)
await (await import("./fields.js")).benchFields(); // field-level protection vs AWS SDK and raw GCM (bench/fields.js), own section and bench/fields-results.json
spawnSync(process.execPath, [join(BENCH, "redact.js")], { stdio: "inherit" }); // redaction accuracy and throughput vs redact-pii (bench/redact.js)
await (await import("./audit-head.js")).benchAuditHead(); // audit append with vs without the head MAC, per commit and per 128-record batch (bench/audit-head.js)
await (await import("./keystate.js")).benchKeyState(); // the key-state check on every unwrap, vs BENCH_KEYSTATE_BASELINE (bench/keystate.js, bench/keystate-results.json)
await (await import("./keyservice.js")).benchKeyService(); // key service unwrap vs no-op over mTLS, cached unwrap (bench/keyservice.js, bench/keyservice-results.json)
await (await import("./posture.js")).benchPosture(); // posture check of a 100,000-file map, headers only, < 60 s (bench/posture.js, bench/posture-results.json)
await (await import("./gateway.js")).benchGateway(); // data gateway: curl vs decrypt vs static https, 64 KiB ranges (bench/gateway.js)
await (await import("./secrets.js")).benchSecrets(); // pipeseal run start-up overhead vs `true`, masking throughput (bench/secrets.js, bench/secrets-results.json)
await (await import("./monitor.js")).benchMonitor(); // monitor check: accuracy on held-out seeds, records/s vs readline+JSON.parse, peak RSS at 1M and 5M (bench/monitor.js, bench/monitor-results.json)
await (await import("./secagg.js")).benchSecagg(); // secure aggregation: 100 parties × 100,000 dims, full graph vs SecAgg+, bytes per party vs the plain vector (bench/secagg.js, bench/secagg-results.json)
await (await import("./privacy.js")).benchPrivacy(); // DP samplers/s, DP count/sum/histogram vs no noise over a sealed CSV, deep goodness of fit (bench/privacy.js, bench/privacy-results.json)
await (await import("./monitor-live.js")).benchMonitorLive(); // monitor run commit-to-sink p99 vs an audit export loop, local keystore, < 2 s (bench/monitor-live.js, bench/monitor-live-results.json)
await (await import("./monitor-remote.js")).benchMonitorRemote(); // monitor run --server commit-to-sink p99 vs an audit export --server loop, and the audit records each causes (bench/monitor-remote.js, bench/monitor-remote-results.json)
await (await import("./ui.js")).benchUi(); // dashboard: audit page, filtered page, overview p95 with 1,000,000 audit records; transfer size (bench/ui.js, bench/ui-results.json)
await (await import("./demo.js")).benchDemo(); // npm run demo: each step's time and the wall time vs 3 min, peer: the bare torch import (bench/demo.js, bench/demo-results.json)
