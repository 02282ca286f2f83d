#!/usr/bin/env node
// Secure aggregation benchmark (bench/README.md): one round of BENCH_SECAGG_PARTIES parties
// (default 100) × a BENCH_SECAGG_DIM vector (default 100,000) in one process, through the
// protocol core the aggregator and the client run (no network), for the full graph
// (Bonawitz et al. 2017, with the Round 3 consistency check) and SecAgg+ (k neighbours, Bell et al. 2020), without dropouts and
// with BENCH_SECAGG_DROP (default 5%) of the parties vanishing after sharing their keys (the
// aggregator's worst step: it reconstructs their keys and removes their pairwise masks).
// Reported: time per round at the aggregator, per party (median and max), and the bytes each
// party sends against the plain Float32 vector; the peer, measured in the same run, is the
// insecure plain sum of the same vectors.
// Standalone: `node bench/secagg.js` (after `npm run build`); also called at the end of bench/run.js.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, median, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const DIST = join(dirname(BENCH), "dist");
const log = (m) => process.stderr.write(`[bench secagg] ${m}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e6;

export async function benchSecagg() {
  const n = Number(process.env.BENCH_SECAGG_PARTIES ?? 100);
  const dim = Number(process.env.BENCH_SECAGG_DIM ?? 100_000);
  const dropFraction = Number(process.env.BENCH_SECAGG_DROP ?? 0.05);
  const { initKeystore, openKeystore } = await import(join(DIST, "keys", "index.js"));
  const { initCa, issueCertificate } = await import(join(DIST, "pki", "ca", "index.js"));
  const sa = await import(join(DIST, "secagg", "index.js"));
  const { wordsToBytes } = await import(join(DIST, "secagg", "prg.js"));
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-secagg-"));
  try {
    await initKeystore(join(dir, "ks"));
    const ks = await openKeystore(join(dir, "ks"), { principal: "bench" });
    await initCa(ks, { name: "bench", trustDomain: "bench.ml" });
    log(`issuing ${n} party certificates`);
    const ids = [];
    for (let i = 0; i < n; i++) {
      const c = await issueCertificate(ks, { service: `party-${String(i).padStart(4, "0")}`, env: "prod", client: true });
      ids.push(sa.loadIdentity({ cert: c.certPem, key: c.keyPem, ca: c.caPem }));
    }
    ks.close();
    const inputs = Array.from({ length: n }, () => {
      const v = new Float32Array(dim);
      const r = randomBytes(dim);
      for (let i = 0; i < dim; i++) v[i] = (r[i] - 128) / 64;
      return v;
    });

    // the peer: the plain (insecure) sum of the same vectors
    const [t0, c0] = [now(), process.cpuUsage()];
    const plain = new Float64Array(dim);
    for (const v of inputs) for (let i = 0; i < dim; i++) plain[i] += v[i];
    const plainMs = now() - t0;
    const cu = process.cpuUsage(c0);
    const plainCpu = (cu.user + cu.system) / 1000;

    const k = Math.min(n - 1, 2 * Math.ceil(Math.log2(n)));
    const tPlus = Math.floor((k + 1) / 2) + 1;
    const modes = [
      { name: "full graph", graph: "full", neighbours: 0, threshold: Math.floor(n / 2) + 1 },
      { name: `SecAgg+ k=${k}`, graph: "plus", neighbours: k, threshold: tPlus },
    ];
    const rows = [];
    const raw = [];
    for (const m of modes) {
      for (const drop of [0, Math.round(n * dropFraction)]) {
        const cfg = {
          v: 1,
          round: `bench-${m.graph}-${drop}`,
          dim,
          threshold: m.threshold,
          minParties: n - drop > m.threshold ? m.threshold : 2,
          maxParties: m.graph === "full" ? 2 * m.threshold - 1 : n,
          graph: m.graph,
          neighbours: m.neighbours,
          quantization: sa.DEFAULT_QUANTIZATION,
        };
        if (m.graph === "full" && cfg.maxParties < n) cfg.maxParties = n; // 2t − 1 ≥ n by the choice of t
        log(`${m.name}, ${drop} dropouts: one round of ${n} × ${dim}`);
        const r = oneRound(sa, wordsToBytes, cfg, ids, inputs, drop);
        let maxErr = 0;
        const want = new Float64Array(dim);
        for (const i of r.included) for (let j = 0; j < dim; j++) want[j] += inputs[i][j];
        for (let j = 0; j < dim; j++) maxErr = Math.max(maxErr, Math.abs(r.sum[j] - want[j]));
        if (maxErr > r.errorBound + 1e-6) throw new Error(`wrong sum: error ${maxErr} > bound ${r.errorBound}`);
        const bytes = median(r.bytes);
        rows.push([
          m.name,
          `t=${m.threshold}`,
          String(drop),
          `${fmt(r.aggCpu / 1000, 2)} (${fmt(r.aggMs / 1000, 2)})`,
          `${fmt(median(r.partyCpu), 0)} (${fmt(median(r.partyMs), 0)})`,
          fmt(Math.max(...r.partyCpu), 0),
          fmt(bytes / 1024, 1),
          `${fmt(bytes / (4 * dim), 3)}×`,
          `${fmt(plainCpu, 1)} (${fmt(plainMs, 1)})`,
        ]);
        raw.push({
          mode: m.name,
          threshold: m.threshold,
          dropouts: drop,
          aggregatorMs: r.aggMs,
          aggregatorCpuMs: r.aggCpu,
          partyMs: r.partyMs,
          partyCpuMs: r.partyCpu,
          plainSumCpuMs: plainCpu,
          bytesPerParty: r.bytes,
          plainVectorBytes: 4 * dim,
          plainSumMs: plainMs,
          maxError: maxErr,
          errorBound: r.errorBound,
        });
      }
    }
    process.stdout.write(`\n## Secure aggregation: ${n} parties × ${dim} dims, one process (no network)\n\n`);
    process.stdout.write(
      table(
        [
          "mode",
          "threshold",
          "dropouts",
          "aggregator CPU s/round (wall)",
          "party CPU ms, median (wall)",
          "party CPU ms, max",
          "KiB sent/party",
          "× plain vector",
          "plain sum CPU ms (wall), peer",
        ],
        rows,
      ) + "\n\n",
    );
    writeFileSync(join(BENCH, "secagg-results.json"), JSON.stringify({ parties: n, dim, runs: raw }, null, 2) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function oneRound(sa, wordsToBytes, cfg, ids, inputs, drop) {
  const n = ids.length;
  const round = new sa.AggregatorRound({ config: cfg, caPem: ids[0].caPem });
  const parties = ids.map((identity) => new sa.Party({ identity }));
  const partyMs = new Array(n).fill(0);
  const partyCpu = new Array(n).fill(0);
  const bytes = new Array(n).fill(0);
  let aggMs = 0;
  let aggCpu = 0;
  // wall clock and CPU time (user + system) of each section: the machine is shared, CPU time is what the work costs
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const agg = (f) => {
    const [t, c] = [now(), cpu()];
    const out = f();
    aggMs += now() - t;
    aggCpu += cpu() - c;
    return out;
  };
  const party = (i, f) => {
    const [t, c] = [now(), cpu()];
    const out = f();
    partyMs[i] += now() - t;
    partyCpu[i] += cpu() - c;
    return out;
  };
  const dropped = new Set(Array.from({ length: drop }, (_, i) => Math.floor((i * n) / Math.max(drop, 1))));
  parties.forEach((p, i) => {
    const ad = party(i, () => p.advertise(cfg));
    bytes[i] += JSON.stringify(ad).length;
    agg(() => round.advertise(p.id, ad));
  });
  agg(() => round.close());
  const roster = agg(() => round.roster());
  parties.forEach((p, i) => {
    const msg = party(i, () => p.shareKeys(roster));
    bytes[i] += JSON.stringify(msg).length;
    agg(() => round.shares(p.id, msg));
  });
  agg(() => round.close());
  parties.forEach((p, i) => {
    if (dropped.has(i)) return; // vanishes after sharing its keys
    const inbox = agg(() => round.inbox(p.id));
    const y = party(i, () => wordsToBytes(p.maskInput(inbox, inputs[i])));
    bytes[i] += y.length;
    agg(() => round.masked(p.id, y));
  });
  agg(() => round.close());
  parties.forEach((p, i) => {
    if (dropped.has(i)) return;
    const req = agg(() => round.consistencyRequest(p.id));
    const msg = party(i, () => p.signSurvivors(req));
    bytes[i] += JSON.stringify(msg).length;
    agg(() => round.consistency(p.id, msg));
  });
  agg(() => round.close());
  parties.forEach((p, i) => {
    if (dropped.has(i)) return;
    const req = agg(() => round.unmaskRequest(p.id));
    const a = party(i, () => p.unmask(req));
    bytes[i] += JSON.stringify(a).length;
    agg(() => round.unmask(p.id, a));
  });
  agg(() => round.close());
  const live = [...Array(n).keys()].filter((i) => !dropped.has(i));
  const res = round.result;
  return {
    aggMs,
    aggCpu,
    partyMs: live.map((i) => partyMs[i]),
    partyCpu: live.map((i) => partyCpu[i]),
    bytes: live.map((i) => bytes[i]),
    sum: res.sum,
    errorBound: res.errorBound,
    included: live,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchSecagg();
