#!/usr/bin/env node
// Field-level protection benchmark (issue 5): records/s per action over a 1,000,000-record JSONL
// (six fields, three protected), against the AWS Encryption SDK for JavaScript encrypting each
// field as its own message (raw AES keyring; a fixed sample timed and extrapolated) and against
// raw node:crypto AES-256-GCM per field (the in-process limit). Memory: peak RSS of the
// randomized run at 100k vs 1M records, each in its own process.
// The "of raw GCM" ratio is measured in ONE child process, interleaved: rounds alternate (order
// flipped each round) between `runFields("apply")` over a BENCH_FIELDS_RATIO_N-record file
// (default 20000) → /dev/null and a bare node:crypto AES-256-GCM loop over exactly the same
// fields: the same typed plaintexts ("s" + value) and AADs of the same bytes the encrypt path
// binds, a random 32-byte key, IVs from a randomFillSync pool refilled in place as in the
// encrypt path (src/fields/gcm.ts); plaintexts and AADs are prepared before timing. The
// target uses the median of the per-round ratios (BENCH_FIELDS_ROUNDS, default 11); the ratio
// of process CPU time is printed beside it as a check that is less sensitive to other load.
// Env: BENCH_FIELDS_N (default 1000000)  BENCH_FIELDS_SAMPLE (actions other than encrypt run on
// the first N records, default 200000)  BENCH_FIELDS_AWS (default 20000 fields).
import { spawnSync } from "node:child_process";
import { createCipheriv, randomBytes, randomFillSync } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, ".work", "fields");
const N = Number(process.env.BENCH_FIELDS_N ?? 1_000_000);
const SAMPLE = Math.min(N, Number(process.env.BENCH_FIELDS_SAMPLE ?? 200_000));
const AWS_N = Number(process.env.BENCH_FIELDS_AWS ?? 20_000);
const RATIO_N = Math.min(N, Number(process.env.BENCH_FIELDS_RATIO_N ?? 20_000));
const ROUNDS = Number(process.env.BENCH_FIELDS_ROUNDS ?? 11);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const lib = (p) => import(join(ROOT, "dist", p));

const policyFor = (action) =>
  `version: 1\nkey: bench/fields\nrecordId: id\nrules:\n` +
  ["ssn", "card", "phone"].map((f) => `  - { field: ${f}, action: ${action}${action === "tokenize" ? ", version: 1" : ""} }\n`).join("");

async function makeData(file, n) {
  if (existsSync(file)) return;
  const out = createWriteStream(file);
  let seed = 42;
  const r = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const digits = (k) => Array.from({ length: k }, () => Math.floor(r() * 10)).join("");
  for (let i = 0; i < n; i++) {
    const line =
      JSON.stringify({ id: `c${i}`, email: `u${i}@example.com`, ssn: digits(9), card: digits(16), phone: digits(10), age: Math.floor(r() * 90) }) + "\n";
    if (!out.write(line)) await new Promise((res) => out.once("drain", res));
  }
  await new Promise((res) => out.end(res));
}

async function keystore() {
  const { initKeystore, openKeystore } = await lib("keys/index.js");
  const home = join(WORK, "home");
  if (!existsSync(join(home, "keystore.db"))) {
    await initKeystore(home);
    const ks = await openKeystore(home, { principal: "bench" });
    ks.createKey("bench/fields");
    ks.close();
  }
  return openKeystore(home, { principal: "bench" });
}

// child mode: one apply run, prints { seconds, rows, maxRssKiB }
if (process.argv[2] === "--run") {
  const [, , , action, input] = process.argv;
  const { runFields, parseFieldPolicy } = await lib("fields/index.js");
  const ks = await keystore();
  const t0 = process.hrtime.bigint();
  const stats = await runFields("apply", { policy: parseFieldPolicy(policyFor(action)), keyring: ks, input, output: "/dev/null" });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  ks.close();
  process.stdout.write(JSON.stringify({ seconds, rows: stats.rows, maxRssKiB: process.resourceUsage().maxRSS }) + "\n");
  process.exit(0);
}

// child mode: the interleaved encrypt-vs-raw-GCM comparison, prints its samples
if (process.argv[2] === "--ratio") {
  const [, , , roundsText, input] = process.argv;
  const { runFields, parseFieldPolicy } = await lib("fields/index.js");
  const ks = await keystore();
  const policy = parseFieldPolicy(policyFor("encrypt"));
  // the raw workload: the same fields, plaintexts and AAD bytes as the encrypt path
  const head = Buffer.from("pse1:e:bench/fields:", "utf8");
  const u32 = (n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const version = u32(1);
  const pts = [];
  const aads = [];
  for (const line of readFileSync(input, "utf8").split("\n")) {
    if (!line) continue;
    const rec = JSON.parse(line);
    const id = Buffer.from(String(rec.id), "utf8");
    for (const f of ["ssn", "card", "phone"]) {
      pts.push(Buffer.from("s" + rec[f], "utf8"));
      const p = Buffer.from(f, "utf8");
      aads.push(Buffer.concat([head, version, u32(p.length), p, u32(id.length), id]));
    }
  }
  const key = randomBytes(32);
  const ivs = Buffer.alloc(12 * 4096);
  let ivOff = ivs.length;
  const rawRound = () => {
    for (let i = 0; i < pts.length; i++) {
      if (ivOff >= ivs.length) {
        randomFillSync(ivs); // refilled in place, as src/fields/gcm.ts does
        ivOff = 0;
      }
      const c = createCipheriv("aes-256-gcm", key, ivs.subarray(ivOff, (ivOff += 12)));
      c.setAAD(aads[i]);
      c.update(pts[i]);
      c.final();
      c.getAuthTag();
    }
    return pts.length;
  };
  const encRound = async () => (await runFields("apply", { policy, keyring: ks, input, output: "/dev/null" })).values.encrypt;
  const measure = async (fn) => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const fields = await fn();
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { fields, wall, cpu: (c.user + c.system) / 1e6 };
  };
  rawRound(); // warm-up, both
  await encRound();
  const rounds = [];
  for (let r = 0; r < Number(roundsText); r++) {
    const pair = {};
    for (const which of r % 2 ? ["raw", "enc"] : ["enc", "raw"]) pair[which] = await measure(which === "raw" ? rawRound : encRound);
    if (pair.raw.fields !== pair.enc.fields) throw new Error(`field counts differ: raw ${pair.raw.fields}, encrypt ${pair.enc.fields}`);
    rounds.push(pair);
  }
  ks.close();
  process.stdout.write(JSON.stringify({ fields: pts.length, rounds }) + "\n");
  process.exit(0);
}

function child(action, input, mode = "--run") {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), mode, action, input], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${action}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1));
}

async function head(src, dst, n) {
  if (existsSync(dst)) return;
  const lines = [];
  const { createInterface } = await import("node:readline");
  const { createReadStream } = await import("node:fs");
  for await (const l of createInterface({ input: createReadStream(src) })) {
    lines.push(l);
    if (lines.length === n) break;
  }
  writeFileSync(dst, lines.join("\n") + "\n");
}

async function awsSdk(fields) {
  let sdk;
  try {
    sdk = await import("@aws-crypto/client-node");
  } catch {
    return null;
  }
  const { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } = sdk;
  const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const keyring = new RawAesKeyringNode({
    keyNamespace: "bench",
    keyName: "fields",
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < fields; i++) await encrypt(keyring, "123456789012345", { encryptionContext: { field: "ssn", record: `c${i}` } });
  return fields / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function benchFields() {
  mkdirSync(WORK, { recursive: true });
  const big = join(WORK, `records-${N}.jsonl`);
  const sample = join(WORK, `records-${SAMPLE}.jsonl`);
  const small = join(WORK, "records-100000.jsonl");
  const ratioFile = join(WORK, `records-${RATIO_N}.jsonl`);
  process.stderr.write(`[fields] generating ${N} records…\n`);
  await makeData(big, N);
  await head(big, sample, SAMPLE);
  await head(big, small, Math.min(N, 100_000));
  await head(big, ratioFile, RATIO_N);
  (await keystore()).close();
  const rows = [];
  const enc = child("encrypt", big);
  rows.push({ action: "encrypt", records: enc.rows, seconds: enc.seconds, rps: enc.rows / enc.seconds });
  for (const action of ["deterministic", "tokenize", "pseudonymize", "mask"]) {
    const r = child(action, sample);
    rows.push({ action, records: r.rows, seconds: r.seconds, rps: r.rows / r.seconds });
  }
  const rss100k = child("encrypt", small).maxRssKiB;
  process.stderr.write(`[fields] encrypt vs raw GCM: ${ROUNDS} interleaved rounds of ${RATIO_N} records in one process…\n`);
  const ratioRun = child(String(ROUNDS), ratioFile, "--ratio");
  const rs = ratioRun.rounds;
  const raw = median(rs.map((p) => p.raw.fields / p.raw.wall));
  const encInterleaved = median(rs.map((p) => p.enc.fields / p.enc.wall));
  const ratioWall = median(rs.map((p) => p.raw.wall / p.enc.wall));
  const ratioCpu = median(rs.map((p) => p.raw.cpu / p.enc.cpu));
  const aws = await awsSdk(AWS_N);
  const encFieldsPerS = rows[0].rps * 3;
  const results = {
    n: N,
    sample: SAMPLE,
    rows,
    rawGcmFieldsPerS: raw,
    interleaved: { records: RATIO_N, fields: ratioRun.fields, rounds: rs, encFieldsPerS: encInterleaved, ratioWall, ratioCpu },
    awsFieldsPerS: aws,
    awsSampleFields: AWS_N,
    rssKiB: { at100k: rss100k, at1M: enc.maxRssKiB },
  };
  const targets = [
    ["randomized vs AWS Encryption SDK (per field)", aws ? encFieldsPerS / aws : null, 20, "×"],
    ["randomized vs raw node:crypto AES-256-GCM (per field; same process, interleaved, median of per-round ratios)", ratioWall, 0.6, "of raw"],
    ["memory flat (RSS 1M / RSS 100k)", enc.maxRssKiB / rss100k, 1.5, "≤"],
  ].map(([name, v, limit, unit]) => ({ name, value: v, limit, pass: v === null ? null : unit === "≤" ? v <= limit : v >= limit }));
  results.targets = targets;
  writeFileSync(join(BENCH, "fields-results.json"), JSON.stringify(results, null, 2) + "\n");
  const out = [];
  out.push(`\n## Field-level protection (${N.toLocaleString()} JSONL records, 3 protected fields each)\n`);
  out.push("| action | records | s | records/s | fields/s |", "|---|---:|---:|---:|---:|");
  for (const r of rows)
    out.push(
      `| ${r.action} | ${r.records.toLocaleString()} | ${r.seconds.toFixed(1)} | ${Math.round(r.rps).toLocaleString()} | ${Math.round(r.rps * 3).toLocaleString()} |`,
    );
  out.push(
    `| encrypt, interleaved rounds (${RATIO_N.toLocaleString()} records, median of ${ROUNDS}) | ${RATIO_N.toLocaleString()} | — | ${Math.round(encInterleaved / 3).toLocaleString()} | ${Math.round(encInterleaved).toLocaleString()} |`,
  );
  out.push(`| raw node:crypto AES-256-GCM, same fields, interleaved (no I/O, no JSON) | — | — | — | ${Math.round(raw).toLocaleString()} |`);
  out.push(
    `| AWS Encryption SDK, one message per field (timed on ${AWS_N.toLocaleString()} fields, extrapolated) | — | ${aws ? ((3 * N) / aws).toFixed(0) + " (extrapolated)" : "n/a"} | — | ${aws ? Math.round(aws).toLocaleString() : "not installed"} |`,
  );
  out.push(
    `\nencrypt / raw GCM per round (wall): ${rs.map((p) => (p.raw.wall / p.enc.wall).toFixed(2)).join(" ")}; median ${ratioWall.toFixed(2)}; by process CPU time: median ${ratioCpu.toFixed(2)}.`,
  );
  out.push(
    `\nActions other than encrypt ran on the first ${SAMPLE.toLocaleString()} records (BENCH_FIELDS_SAMPLE). Peak RSS: ${(rss100k / 1024).toFixed(0)} MiB at 100k, ${(enc.maxRssKiB / 1024).toFixed(0)} MiB at ${N.toLocaleString()}.\n`,
  );
  for (const t of targets)
    out.push(
      `- ${t.pass === null ? "SKIP" : t.pass ? "PASS" : "FAIL"}: ${t.name}: ${t.value === null ? "n/a" : t.value.toFixed(2)} (target ${t.name.startsWith("memory") ? "≤" : "≥"} ${t.limit})`,
    );
  process.stdout.write(out.join("\n") + "\n");
  if (process.env.BENCH_KEEP !== "1") rmSync(WORK, { recursive: true, force: true });
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== "--run") await benchFields();
