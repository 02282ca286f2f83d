#!/usr/bin/env node
// Live monitor latency: the time from an unwrap's commit in the local keystore to its alert at
// the sink, for `pipeseal monitor run` (poll.intervalMs 250, the default) writing to a file sink;
// target p99 < 2 s. Each unwrap is of a honeytoken key by a new principal, so each is its own
// alert. The peer, in the same run and on the same records: a forwarder that runs
// `pipeseal audit export --after-seq N` back to back (what a SIEM shipper can do without the
// monitor), timed from commit to the record's line in its output.
// Standalone: `node bench/monitor-live.js` (after `npm run build`); also called by bench/run.js.
//
// Env: BENCH_MONITOR_EVENTS (default 200)  BENCH_MONITOR_GAP_MS (mean gap between unwraps, 40)
//      BENCH_MONITOR_NO_PEER=1 (skip the export loop, to see the monitor on a quiet machine)
// Report on stdout, raw data in bench/monitor-live-results.json.
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmt, log, median, percentile, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const BIN = join(ROOT, "dist", "cli", "bin.js");
const N = Number(process.env.BENCH_MONITOR_EVENTS ?? 200);
const GAP = Number(process.env.BENCH_MONITOR_GAP_MS ?? 40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function benchMonitorLive() {
  const { initKeystore, openKeystore } = await import(pathToFileURL(join(ROOT, "dist", "keys", "index.js")).href);
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-monitor-"));
  const home = join(dir, "ks");
  const env = { PATH: process.env.PATH ?? "", PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "monitor" };
  const sink = join(dir, "alerts.jsonl");
  const procs = [];
  try {
    await initKeystore(home);
    const ks = await openKeystore(home, { principal: "bench" });
    ks.createKey("prod/canary/k");
    const ctx = { dataset: "bench" };
    const entry = await ks.wrap("prod/canary/k", randomBytes(32), ctx);
    const cfg = join(dir, "monitor.yaml");
    writeFileSync(
      cfg,
      `version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\nstate:\n  file: state.pseal\nsinks:\n  - kind: file\n    path: alerts.jsonl\n    perMinute: 100000\n`,
    );

    // the monitor, and the peer forwarder (export --after-seq in a loop)
    const mon = spawn(process.execPath, [BIN, "monitor", "run", "--config", cfg], { env, stdio: ["ignore", "ignore", "pipe"] });
    procs.push(mon);
    let monErr = "";
    mon.stderr.on("data", (d) => (monErr += d));
    for (let i = 0; i < 200 && !existsSync(join(dir, "state.pseal")); i++) await sleep(50);
    const seenByExport = new Map(); // seq → first time seen
    let afterSeq = ks.auditHead()?.seq ?? 0;
    let stopExport = false;
    const exporter = (async () => {
      while (!stopExport && process.env.BENCH_MONITOR_NO_PEER !== "1") {
        const started = Date.now();
        const out = await new Promise((resolve) => {
          const p = spawn(process.execPath, [BIN, "audit", "export", "--after-seq", String(afterSeq)], {
            env: { ...env, PIPESEAL_PRINCIPAL: "forwarder" },
            stdio: ["ignore", "pipe", "ignore"],
          });
          let s = "";
          p.stdout.on("data", (d) => (s += d));
          p.on("exit", () => resolve(s));
        });
        const now = Date.now();
        for (const line of out.split("\n").filter(Boolean)) {
          const r = JSON.parse(line);
          if (!seenByExport.has(r.seq)) seenByExport.set(r.seq, now);
          afterSeq = Math.max(afterSeq, r.seq);
        }
        if (now - started < 5) await sleep(5);
      }
    })();

    // the alerts as they arrive at the sink, watched while the unwraps run
    const arrived = new Map(); // seq → arrival time
    let stopWatch = false;
    const watcher = (async () => {
      let offset = 0;
      const deadline = () => (stopWatch ? Date.now() > watchUntil : false);
      while (!deadline() && !(stopWatch && arrived.size >= N)) {
        if (existsSync(sink)) {
          const text = readFileSync(sink, "utf8");
          const now = Date.now();
          for (const line of text.slice(offset).split("\n")) {
            if (!line) continue;
            const a = JSON.parse(line);
            if (a.detection === "honeytoken" && a.state === "open" && !arrived.has(a.seqs[0])) arrived.set(a.seqs[0], now);
          }
          offset = text.lastIndexOf("\n") + 1;
        }
        await sleep(5);
      }
    })();
    let watchUntil = Infinity;

    // unwraps, each by a new principal: commit time per seq
    log(`monitor live: ${N} honeytoken unwraps, ~${GAP} ms apart`);
    const committed = new Map(); // seq → commit time
    for (let i = 0; i < N; i++) {
      const view = ks.actingAs(`bench-principal-${i}`);
      (await view.unwrap(entry, ctx, { operation: "decrypt", path: `bench/${i}.pseal` })).fill(0);
      committed.set(ks.auditHead().seq, Date.now()); // the unwrap returns once its record committed
      await sleep(randomInt(Math.max(1, GAP * 2)));
    }

    watchUntil = Date.now() + 15_000;
    stopWatch = true;
    await watcher;
    // (arrival is read by polling the file every 5 ms, so it is late by up to 5 ms, as is the peer's)
    await sleep(1500);
    stopExport = true;
    await exporter;
    mon.kill("SIGTERM");
    await new Promise((r) => mon.on("exit", r));
    ks.close();

    const lat = (seen) => [...committed].filter(([s]) => seen.has(s)).map(([s, t]) => seen.get(s) - t);
    const monLat = lat(arrived);
    const expLat = lat(seenByExport);
    const row = (name, xs) => [name, `${xs.length}/${committed.size}`, fmt(median(xs), 0), fmt(percentile(xs, 99), 0), fmt(Math.max(...xs), 0)];
    const results = {
      events: N,
      gapMs: GAP,
      monitor: { delivered: monLat.length, p50: median(monLat), p99: percentile(monLat, 99), max: Math.max(...monLat) },
      exportLoop: { seen: expLat.length, p50: median(expLat), p99: percentile(expLat, 99), max: Math.max(...expLat) },
      targetP99Ms: 2000,
    };
    writeFileSync(join(BENCH, "monitor-live-results.json"), JSON.stringify(results, null, 2) + "\n");
    process.stdout.write("\n## Live monitor: commit → sink (local keystore)\n\n");
    process.stdout.write(
      table(
        ["path", "delivered", "p50 ms", "p99 ms", "max ms"],
        [row("monitor run → file sink (poll 250 ms)", monLat), row("peer: audit export --after-seq loop", expLat)],
      ) + "\n",
    );
    process.stdout.write(`target: p99 < 2000 ms — ${results.monitor.p99 < 2000 && monLat.length === N ? "met" : "NOT met"}\n`);
    if (monLat.length < N) process.stdout.write(`monitor stderr: ${monErr.slice(0, 500)}\n`);
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await benchMonitorLive();
