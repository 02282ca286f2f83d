#!/usr/bin/env node
// Audit append throughput with the authenticated head (issue 22) against the same append
// without it, in one process, interleaved: the peer is the sink's "unsealed" mode (a store from
// before head MACs: no tag written, none checked), i.e. the append as it was. Two shapes:
// one record per commit (the local CLI: one HMAC for the head per commit) and batches of 128
// records per commit (the key service's group commit: one head HMAC per batch). SQLite on a
// real file with synchronous=OFF, so the CPU cost is measured, not the disk; the real fsync per
// commit is the same for both and only adds to each.
// Env: BENCH_AUDIT_RECORDS (default 20000 per round)  BENCH_AUDIT_ROUNDS (default 5).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHmac, randomBytes } from "node:crypto";
import Database from "better-sqlite3";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const N = Number(process.env.BENCH_AUDIT_RECORDS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 5);

export async function benchAuditHead() {
  const { SqliteAuditSink } = await import(join(ROOT, "dist/audit/sqlite-sink.js"));
  const { AUDIT_TABLE_SQL } = await import(join(ROOT, "dist/audit/schema.js"));
  const { writeAuditHead } = await import(join(ROOT, "dist/audit/head.js"));
  const { headTag } = await import(join(ROOT, "dist/audit/head-mac.js"));
  const key = randomBytes(32);
  const mac = (d) => createHmac("sha256", key).update(d).digest();
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-audit-"));
  const event = {
    operation: "unwrap",
    principal: "spiffe://acme.internal/prod/trainer",
    outcome: "ok",
    keyName: "prod/datasets/raw",
    keyVersion: 3,
    objectPath: "s3://bucket/shard-00042.pseal",
    context: { dataset: "raw", stage: "train" },
  };
  const open = (name, sealed) => {
    const db = new Database(join(dir, name));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = OFF");
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); ${AUDIT_TABLE_SQL}`);
    writeAuditHead(db, sealed ? { seq: 0, mac: "", tag: headTag(mac, 0, Buffer.alloc(32)).toString("hex") } : { seq: 0, mac: "" });
    return { db, sink: new SqliteAuditSink(db, mac, sealed ? {} : { unsealed: true }) };
  };
  const time = (sink, batch) => {
    const t0 = process.hrtime.bigint();
    if (batch === 1) for (let i = 0; i < N; i++) sink.append(event);
    else
      for (let i = 0; i < N; i += batch)
        sink.batch(() => {
          for (let j = 0; j < batch && i + j < N; j++) sink.append(event);
        });
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const rows = [];
  for (const batch of [1, 128]) {
    const stores = { sealed: open(`sealed-${batch}.db`, true), before: open(`before-${batch}.db`, false) };
    const rates = { sealed: [], before: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const which of r % 2 === 0 ? ["before", "sealed"] : ["sealed", "before"]) rates[which].push(N / time(stores[which].sink, batch));
    }
    for (const s of Object.values(stores)) s.db.close();
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    rows.push({ recordsPerCommit: batch, beforeRps: med(rates.before), authenticatedRps: med(rates.sealed), ratio: med(rates.sealed) / med(rates.before) });
  }
  // the cost itself: one HMAC-SHA-256 of the 62-byte head input
  const input = randomBytes(62);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200_000; i++) mac(input);
  const hmacUs = Number(process.hrtime.bigint() - t0) / 1e3 / 200_000;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    "\n## Audit append with the authenticated head (bench/audit-head.js)\n\n| records per commit | before (records/s) | with head MAC (records/s) | ratio |\n|---|---|---|---|\n",
  );
  for (const r of rows)
    process.stdout.write(`| ${r.recordsPerCommit} | ${Math.round(r.beforeRps)} | ${Math.round(r.authenticatedRps)} | ${r.ratio.toFixed(3)} |\n`);
  process.stdout.write(`\none head HMAC: ${hmacUs.toFixed(2)} µs (${N} records per round, median of ${ROUNDS} interleaved rounds)\n`);
  writeFileSync(join(BENCH, "audit-head-results.json"), JSON.stringify({ records: N, rounds: ROUNDS, rows, hmacUs }, null, 2));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchAuditHead();
