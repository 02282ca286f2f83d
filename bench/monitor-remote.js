#!/usr/bin/env node
// Live monitor latency over the KEY SERVICE: the time from an unwrap's commit on the service
// (SQLite store, mTLS on loopback) to its alert at the file sink of
// `pipeseal --server URL --cert auditor/ monitor run`, which follows GET /v1/audit/follow.
// Each unwrap opens a decoy object (`objects: ["*/decoy-*"]`), so each record is an alert line
// (a critical alert's growth is sent at once). The peer, in the same run and on the same
// records: `pipeseal --server URL --cert auditor/ audit export --after-seq N` back to back (a
// SIEM shipper polling the export), timed from commit to the record's line in its output.
// Also counted: the audit records each watcher made the service write (the follow's one
// `authz.audit.export`, against one per export poll).
// Standalone: `node bench/monitor-remote.js` (after `npm run build`); also called by bench/run.js.
//
// Env: BENCH_MONITOR_EVENTS (default 100)  BENCH_MONITOR_GAP_MS (mean gap between unwraps, 40)
// Report on stdout, raw data in bench/monitor-remote-results.json.
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, log, median, percentile, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const DIST = join(ROOT, "dist");
const BIN = join(DIST, "cli", "bin.js");
const N = Number(process.env.BENCH_MONITOR_EVENTS ?? 100);
const GAP = Number(process.env.BENCH_MONITOR_GAP_MS ?? 40);
const TD = "spiffe://bench.internal";
const AUDITOR = `${TD}/prod/auditor`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const imp = (p) => import(pathToFileURL(join(DIST, p)).href);

async function setup(dir) {
  const { initKeystore, openKeystore } = await imp("keys/index.js");
  const { initCa, issueCertificate, writeCertDir } = await imp("pki/ca/index.js");
  const home = join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "bench" });
  try {
    await initCa(ks, { trustDomain: "bench.internal" });
    await writeCertDir(join(dir, "server"), await issueCertificate(ks, { service: "keys", env: "prod", ip: ["127.0.0.1"] }));
    for (const s of ["trainer", "auditor"]) await writeCertDir(join(dir, s), await issueCertificate(ks, { service: s, env: "prod", client: true }));
    ks.createKey("prod/datasets/raw");
  } finally {
    ks.close();
  }
  writeFileSync(
    join(dir, "policy.yaml"),
    `version: 1\nbindings:\n  - { identity: "${TD}/prod/trainer", role: workload }\n  - { identity: "${AUDITOR}", role: auditor }\nrules:\n  - { id: train, identity: "${TD}/prod/trainer", operations: [unwrap, datakey.generate, key.list], keys: ["prod/**"] }\n  - { id: audit, identity: "${AUDITOR}", operations: [audit.read, audit.export, key.list] }\n`,
  );
  const cfg = `listen: { host: 127.0.0.1, port: 0 }\ncertDir: server\nallow: ["${TD}/*/*"]\nkeyringId: ks:bench\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\n`;
  writeFileSync(join(dir, "keyservice.yaml"), cfg);
  return cfg;
}

export async function benchMonitorRemote() {
  const { parseConfig } = await imp("server/config.js");
  const { startKeyService } = await imp("server/server.js");
  const { RemoteKeyring } = await imp("client/index.js");
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-monitor-remote-"));
  const procs = [];
  let svc;
  let kr;
  try {
    svc = await startKeyService(parseConfig(await setup(dir), dir));
    kr = new RemoteKeyring({ url: svc.url, certDir: join(dir, "trainer"), id: "ks:bench" });
    const ctx = { dataset: "bench" };
    const entry = await kr.wrap("prod/datasets/raw", randomBytes(32), ctx);
    const host = join(dir, "monitor-host");
    const env = { PATH: process.env.PATH ?? "" };
    const init = spawn(process.execPath, [BIN, "--home", join(host, ".pipeseal"), "init"], { env, stdio: "ignore" });
    await new Promise((r) => init.on("exit", r));
    const cfg = join(host, "monitor.yaml");
    writeFileSync(
      cfg,
      `version: 1\nhoneytokens:\n  objects: ["*/decoy-*"]\nstate:\n  file: state.pseal\nsinks:\n  - kind: file\n    path: alerts.jsonl\n    perMinute: 100000\n`,
    );
    const sink = join(host, "alerts.jsonl");
    const remote = ["--server", svc.url, "--cert", join(dir, "auditor")];
    const exportsBefore = async () =>
      (await svc.store.listAudit({ limit: 1_000_000 })).filter((r) => r.operation === "authz.audit.export" && r.principal === AUDITOR);

    const before = (await exportsBefore()).length;
    const mon = spawn(process.execPath, [BIN, ...remote, "--home", join(host, ".pipeseal"), "monitor", "run", "--config", cfg], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    procs.push(mon);
    let monErr = "";
    mon.stderr.on("data", (d) => (monErr += d));
    for (let i = 0; i < 400 && !existsSync(join(host, "state.pseal")); i++) await sleep(50);

    // the peer: audit export --after-seq N through the service, back to back
    const seenByExport = new Map(); // seq → first time seen
    let afterSeq = (await svc.store.listAudit({ limit: 1 }))[0]?.seq ?? 0;
    let stopExport = false;
    let polls = 0;
    const exporter = (async () => {
      while (!stopExport) {
        const out = await new Promise((resolve) => {
          const p = spawn(process.execPath, [BIN, ...remote, "audit", "export", "--after-seq", String(afterSeq)], { env, stdio: ["ignore", "pipe", "ignore"] });
          let s = "";
          p.stdout.on("data", (d) => (s += d));
          p.on("exit", () => resolve(s));
        });
        polls++;
        const now = Date.now();
        for (const line of out.split("\n").filter(Boolean)) {
          const r = JSON.parse(line);
          if (!seenByExport.has(r.seq)) seenByExport.set(r.seq, now);
          afterSeq = Math.max(afterSeq, r.seq);
        }
      }
    })();

    // alert lines as they arrive (a seq's arrival: the first line whose seqs hold it)
    const arrived = new Map();
    let stopWatch = false;
    const watcher = (async () => {
      let offset = 0;
      while (!stopWatch) {
        if (existsSync(sink)) {
          const text = readFileSync(sink, "utf8");
          const now = Date.now();
          for (const line of text.slice(offset).split("\n")) {
            if (!line) continue;
            for (const s of JSON.parse(line).seqs) if (!arrived.has(s)) arrived.set(s, now);
          }
          offset = text.lastIndexOf("\n") + 1;
        }
        await sleep(5);
      }
    })();

    log(`monitor remote: ${N} decoy unwraps through the key service, ~${GAP} ms apart`);
    const committed = new Map(); // seq of the decrypt record → commit time (the unwrap answers after its record committed)
    for (let i = 0; i < N; i++) {
      const object = `bench/decoy-${i}.pseal`;
      (await kr.unwrap(entry, ctx, { operation: "decrypt", path: object })).fill(0);
      const t = Date.now();
      const rec = (await svc.store.listAudit({ limit: 5 })).reverse().find((r) => r.objectPath === object && r.operation === "decrypt");
      committed.set(rec.seq, t);
      await sleep(randomInt(Math.max(1, GAP * 2)));
    }
    const until = Date.now() + 15_000;
    while (Date.now() < until && [...committed.keys()].some((s) => !arrived.has(s) || !seenByExport.has(s))) await sleep(50);
    stopWatch = true;
    stopExport = true;
    await watcher;
    await exporter;
    mon.kill("SIGTERM");
    await new Promise((r) => mon.on("exit", r));
    const written = (await exportsBefore()).slice(before);
    const followRecords = written.filter((r) => JSON.parse(r.context ?? "{}").follow === "true").length;

    const lat = (seen) => [...committed].filter(([s]) => seen.has(s)).map(([s, t]) => seen.get(s) - t);
    const monLat = lat(arrived);
    const expLat = lat(seenByExport);
    const row = (name, xs, records) => [
      name,
      `${xs.length}/${committed.size}`,
      fmt(median(xs), 0),
      fmt(percentile(xs, 99), 0),
      fmt(Math.max(...xs), 0),
      String(records),
    ];
    const results = {
      events: N,
      gapMs: GAP,
      monitor: { delivered: monLat.length, p50: median(monLat), p99: percentile(monLat, 99), max: Math.max(...monLat), auditRecords: followRecords },
      exportLoop: {
        seen: expLat.length,
        p50: median(expLat),
        p99: percentile(expLat, 99),
        max: Math.max(...expLat),
        polls,
        auditRecords: written.length - followRecords,
      },
      targetP99Ms: 2000,
    };
    writeFileSync(join(BENCH, "monitor-remote-results.json"), JSON.stringify(results, null, 2) + "\n");
    process.stdout.write("\n## Live monitor: commit → sink (key service, SQLite store, mTLS on loopback)\n\n");
    process.stdout.write(
      table(
        ["path", "delivered", "p50 ms", "p99 ms", "max ms", "audit records it caused"],
        [
          row("monitor run --server → file sink (follow)", monLat, followRecords),
          row(`peer: audit export --after-seq loop (${polls} polls)`, expLat, written.length - followRecords),
        ],
      ) + "\n",
    );
    process.stdout.write(`target: p99 < 2000 ms — ${results.monitor.p99 < 2000 && monLat.length === N ? "met" : "NOT met"}\n`);
    if (monLat.length < N) process.stdout.write(`monitor stderr: ${monErr.slice(0, 500)}\n`);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await kr?.close();
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await benchMonitorRemote();
