#!/usr/bin/env node
// Field-level protection benchmark (issue 5): records/s per action over a 1,000,000-record JSONL
// (six fields, three protected), against the AWS Encryption SDK for JavaScript encrypting each
// field as its own message (raw AES keyring; a fixed sample timed and extrapolated) and against
// raw node:crypto AES-256-GCM per field (the in-process limit). Memory: peak RSS of the
// randomized run at 100k vs 1M records, each in its own process.
// Env: BENCH_FIELDS_N (default 1000000)  BENCH_FIELDS_SAMPLE (actions other than encrypt run on
// the first N records, default 200000)  BENCH_FIELDS_AWS (default 20000 fields).
import { spawnSync } from "node:child_process";
import { createCipheriv, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const WORK = join(BENCH, ".work", "fields");
const N = Number(process.env.BENCH_FIELDS_N ?? 1_000_000);
const SAMPLE = Math.min(N, Number(process.env.BENCH_FIELDS_SAMPLE ?? 200_000));
const AWS_N = Number(process.env.BENCH_FIELDS_AWS ?? 20_000);
const lib = (p) => import(join(ROOT, "dist", p));

const policyFor = (action) => `version: 1\nkey: bench/fields\nrecordId: id\nrules:\n` + ["ssn", "card", "phone"].map((f) => `  - { field: ${f}, action: ${action}${action === "tokenize" ? ", version: 1" : ""} }\n`).join("");

async function makeData(file, n) {
  if (existsSync(file)) return;
  const out = createWriteStream(file);
  let seed = 42;
  const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const digits = (k) => Array.from({ length: k }, () => Math.floor(r() * 10)).join("");
  for (let i = 0; i < n; i++) {
    const line = JSON.stringify({ id: `c${i}`, email: `u${i}@example.com`, ssn: digits(9), card: digits(16), phone: digits(10), age: Math.floor(r() * 90) }) + "\n";
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

function child(action, input) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--run", action, input], { encoding: "utf8", maxBuffer: 1 << 20 });
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

function rawGcm(fields) {
  const key = randomBytes(32);
  const pt = Buffer.from("123456789012345");
  const aad = Buffer.from("pse1:e:bench/fields:....ssn....c123456");
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < fields; i++) {
    const c = createCipheriv("aes-256-gcm", key, randomBytes(12));
    c.setAAD(aad);
    c.update(pt);
    c.final();
    c.getAuthTag();
  }
  return fields / (Number(process.hrtime.bigint() - t0) / 1e9);
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
  const keyring = new RawAesKeyringNode({ keyNamespace: "bench", keyName: "fields", unencryptedMasterKey: new Uint8Array(randomBytes(32)), wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < fields; i++) await encrypt(keyring, "123456789012345", { encryptionContext: { field: "ssn", record: `c${i}` } });
  return fields / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function benchFields() {
  mkdirSync(WORK, { recursive: true });
  const big = join(WORK, `records-${N}.jsonl`);
  const sample = join(WORK, `records-${SAMPLE}.jsonl`);
  const small = join(WORK, "records-100000.jsonl");
  process.stderr.write(`[fields] generating ${N} records…\n`);
  await makeData(big, N);
  await head(big, sample, SAMPLE);
  await head(big, small, Math.min(N, 100_000));
  (await keystore()).close();
  const rows = [];
  const enc = child("encrypt", big);
  rows.push({ action: "encrypt", records: enc.rows, seconds: enc.seconds, rps: enc.rows / enc.seconds });
  for (const action of ["deterministic", "tokenize", "pseudonymize", "mask"]) {
    const r = child(action, sample);
    rows.push({ action, records: r.rows, seconds: r.seconds, rps: r.rows / r.seconds });
  }
  const rss100k = child("encrypt", small).maxRssKiB;
  const raw = rawGcm(3 * N);
  const aws = await awsSdk(AWS_N);
  const encFieldsPerS = rows[0].rps * 3;
  const results = { n: N, sample: SAMPLE, rows, rawGcmFieldsPerS: raw, awsFieldsPerS: aws, awsSampleFields: AWS_N, rssKiB: { at100k: rss100k, at1M: enc.maxRssKiB } };
  const targets = [
    ["randomized vs AWS Encryption SDK (per field)", aws ? encFieldsPerS / aws : null, 20, "×"],
    ["randomized vs raw node:crypto AES-256-GCM (per field)", encFieldsPerS / raw, 0.6, "of raw"],
    ["memory flat (RSS 1M / RSS 100k)", enc.maxRssKiB / rss100k, 1.5, "≤"],
  ].map(([name, v, limit, unit]) => ({ name, value: v, limit, pass: v === null ? null : unit === "≤" ? v <= limit : v >= limit }));
  results.targets = targets;
  writeFileSync(join(BENCH, "fields-results.json"), JSON.stringify(results, null, 2) + "\n");
  const out = [];
  out.push(`\n## Field-level protection (${N.toLocaleString()} JSONL records, 3 protected fields each)\n`);
  out.push("| action | records | s | records/s | fields/s |", "|---|---:|---:|---:|---:|");
  for (const r of rows) out.push(`| ${r.action} | ${r.records.toLocaleString()} | ${r.seconds.toFixed(1)} | ${Math.round(r.rps).toLocaleString()} | ${Math.round(r.rps * 3).toLocaleString()} |`);
  out.push(`| raw node:crypto AES-256-GCM (per field, no I/O) | — | — | — | ${Math.round(raw).toLocaleString()} |`);
  out.push(`| AWS Encryption SDK, one message per field (timed on ${AWS_N.toLocaleString()} fields, extrapolated) | — | ${aws ? ((3 * N) / aws).toFixed(0) + " (extrapolated)" : "n/a"} | — | ${aws ? Math.round(aws).toLocaleString() : "not installed"} |`);
  out.push(`\nActions other than encrypt ran on the first ${SAMPLE.toLocaleString()} records (BENCH_FIELDS_SAMPLE). Peak RSS: ${(rss100k / 1024).toFixed(0)} MiB at 100k, ${(enc.maxRssKiB / 1024).toFixed(0)} MiB at ${N.toLocaleString()}.\n`);
  for (const t of targets) out.push(`- ${t.pass === null ? "SKIP" : t.pass ? "PASS" : "FAIL"}: ${t.name}: ${t.value === null ? "n/a" : t.value.toFixed(2)} (target ${t.name.startsWith("memory") ? "≤" : "≥"} ${t.limit})`);
  process.stdout.write(out.join("\n") + "\n");
  if (process.env.BENCH_KEEP !== "1") rmSync(WORK, { recursive: true, force: true });
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] !== "--run") await benchFields();
