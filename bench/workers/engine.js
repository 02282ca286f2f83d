// In-process FLOE seal/open throughput in memory, the engine alone (no I/O, no keystore):
//   node bench/workers/engine.js <seal|open> <native|reference> <cores 1|2> <MiB of work>
// native, 1 core: the addon's synchronous call on this thread; 2 cores: its thread-pool call,
// 4 batches in flight. reference: node:crypto on this thread. 4 MiB batches of 64 KiB
// segments, output buffers reused (as the CLI's pump does). Prints one JSON line: wall seconds and
// user CPU seconds (all threads).
import { randomBytes } from "node:crypto";
import { loadEngines } from "../pipeseal.js";

const [op, engine, coresS, mibS] = process.argv.slice(2);
const cores = Number(coresS);
const e = await loadEngines();
if (engine === "native" && !e.addon) throw new Error(`native engine not available: ${e.description}`);
const SEG = 64 * 1024;
const PER = 64;
const enc = SEG + e.SEGMENT_OVERHEAD;
const { state } = e.startEncryption(randomBytes(32), Buffer.from("bench"), { encSegLen: enc });
const plain = randomBytes(SEG * PER);
const ivs = randomBytes(PER * 12);
const sealedBatch = Buffer.alloc(enc * PER);
e.addon?.sealSync(state.messageKey, state.iv, state.aad, enc, 20, 0, PER, false, plain, sealedBatch, ivs);
const sealed = e.addon ? sealedBatch : e.referenceSeal(state, { data: plain, first: 0, count: PER, final: false }, ivs);
const batches = Math.max(4, Math.round((Number(mibS) * 1024 * 1024) / plain.length));
const outs = Array.from({ length: 4 }, () => Buffer.alloc(enc * PER));
const args = (i) => [state.messageKey, state.iv, state.aad, enc, 20, op === "seal" ? i * PER : 0, PER, false, op === "seal" ? plain : sealed, outs[i % 4]];

// warm-up
for (let i = 0; i < 4; i++) {
  if (engine === "native") op === "seal" ? e.addon.sealSync(...args(i), ivs) : e.addon.openSync(...args(i));
  else
    op === "seal"
      ? e.referenceSeal(state, { data: plain, first: i * PER, count: PER, final: false })
      : e.referenceOpen(state, { data: sealed, first: 0, count: PER, final: false });
}
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
if (engine === "native" && cores > 1) {
  const inflight = [];
  for (let i = 0; i < batches; i++) {
    inflight.push(op === "seal" ? e.addon.seal(...args(i), randomBytes(PER * 12)) : e.addon.open(...args(i)));
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
} else if (engine === "native") {
  for (let i = 0; i < batches; i++) op === "seal" ? e.addon.sealSync(...args(i), randomBytes(PER * 12)) : e.addon.openSync(...args(i));
} else {
  for (let i = 0; i < batches; i++) {
    if (op === "seal") e.referenceSeal(state, { data: plain, first: i * PER, count: PER, final: false });
    else e.referenceOpen(state, { data: sealed, first: 0, count: PER, final: false });
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
// user CPU of every thread of this process: what `openssl speed` divides by (its default), so the
// per-core figure holds on a loaded machine, where wall time measures the other tenants too
const cpuSeconds = process.cpuUsage(c0).user / 1e6;
process.stdout.write(JSON.stringify({ op, engine, cores, bytes: batches * plain.length, seconds, cpuSeconds, engineDescription: e.description }) + "\n");
