// Artifact benchmark: signing a model folder against sha256sum of the same files in the same
// run (one process, and two processes in parallel = the both-cores hashing limit), then
// registry push and pull (verify + decrypt + write) throughput. Default 1 GiB in 4 files;
// BENCH_ARTIFACTS_GIB=4 for the 4 GiB case of the issue. Run after `npm run build`.
// Targets: signing within 1.2x of parallel sha256sum; pull >= 500 MB/s. Prints PASS/FAIL.
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH = fileURLToPath(new URL(".", import.meta.url));
const MB = 1e6;
const log = (m) => process.stderr.write(`[artifacts] ${m}\n`);

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
    c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}
async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}
async function warm(files) {
  for (const f of files) for await (const _ of createReadStream(f, { highWaterMark: 4 << 20 }));
}

export async function benchArtifacts() {
  const gib = Number(process.env.BENCH_ARTIFACTS_GIB ?? 1);
  const total = Math.round(gib * 1024 ** 3);
  const nFiles = 4;
  const work = join(BENCH, ".work", "artifacts");
  rmSync(work, { recursive: true, force: true });
  const model = join(work, "model");
  mkdirSync(model, { recursive: true });
  const files = [];
  const block = randomBytes(16 << 20);
  for (let i = 0; i < nFiles; i++) {
    const f = join(model, `model-0000${i}-of-0000${nFiles}.safetensors`);
    const { openSync, writeSync, closeSync } = await import("node:fs");
    const fd = openSync(f, "w");
    for (let w = 0; w < total / nFiles; w += block.length) {
      block.writeUInt32LE(w ^ i, 0); // distinct blocks
      writeSync(fd, block, 0, Math.min(block.length, total / nFiles - w));
    }
    closeSync(fd);
    files.push(f);
  }
  writeFileSync(join(model, "config.json"), JSON.stringify({ arch: "bench" }));
  log(`model: ${nFiles} files, ${(total / 1024 ** 3).toFixed(2)} GiB in ${model}`);
  await warm(files);

  const lib = await import("../dist/artifacts/index.js");
  const keys = await import("../dist/keys/index.js");
  const home = join(work, "ks");
  await keys.initKeystore(home);
  const ks = await keys.openKeystore(home, { principal: "bench" });
  ks.createKey("models/prod");
  await lib.createSigningKey(ks, home, "models/signing", "p256");
  const signer = await lib.openSigner(ks, home, "models/signing");

  const half = Math.ceil(files.length / 2);
  const r = {};
  r.sha256sumOne = await time(() => run("sha256sum", files));
  r.sha256sumTwo = await time(() => Promise.all([run("sha256sum", files.slice(0, half)), run("sha256sum", files.slice(half))]));
  r.signFiles = await time(() => lib.signModel(model, { signer }));
  r.signShards = await time(() => lib.signModel(model, { signer, shardSize: 1e9 }));
  const reg = new lib.FolderRegistry(join(work, "reg"));
  r.push = await time(() => lib.pushModel(ks, reg, model, { name: "bench", version: "1" }, { keyName: "models/prod", signer }));
  const trust = lib.trustFromKeys({ bench: [signer.info.publicKeyPem] });
  r.pull = await time(() => lib.pullModel(ks, reg, { name: "bench", version: "1" }, join(work, "out"), { trust }));
  ks.close();

  const mbps = (s) => (total / MB / s).toFixed(0);
  const limit = r.sha256sumTwo;
  const best = Math.min(r.signFiles, r.signShards);
  const signPass = best <= 1.2 * limit;
  const pullRate = total / MB / r.pull;
  const pullPass = pullRate >= 500;
  const lines = [
    `artifacts (${(total / 1024 ** 3).toFixed(2)} GiB, ${nFiles} files, page cache warm)`,
    `  sha256sum, 1 process        ${r.sha256sumOne.toFixed(2)} s  ${mbps(r.sha256sumOne)} MB/s`,
    `  sha256sum, 2 processes      ${r.sha256sumTwo.toFixed(2)} s  ${mbps(r.sha256sumTwo)} MB/s  (both-cores limit)`,
    `  model sign (files)          ${r.signFiles.toFixed(2)} s  ${mbps(r.signFiles)} MB/s  ${(r.signFiles / limit).toFixed(2)}x limit`,
    `  model sign (1 GB shards)    ${r.signShards.toFixed(2)} s  ${mbps(r.signShards)} MB/s  ${(r.signShards / limit).toFixed(2)}x limit`,
    `  registry push               ${r.push.toFixed(2)} s  ${mbps(r.push)} MB/s`,
    `  registry pull (verify+dec)  ${r.pull.toFixed(2)} s  ${mbps(r.pull)} MB/s`,
    `  ${signPass ? "PASS" : "FAIL"} signing within 1.2x of parallel sha256sum (${(best / limit).toFixed(2)}x)`,
    `  ${pullPass ? "PASS" : "FAIL"} pull >= 500 MB/s (${pullRate.toFixed(0)} MB/s)`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  writeFileSync(join(BENCH, "artifacts-results.json"), JSON.stringify({ bytes: total, files: nFiles, seconds: r, signPass, pullPass, pullMBps: pullRate }, null, 2) + "\n");
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  return { signPass, pullPass };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await benchArtifacts();
if (!existsSync("/dev/null")) process.exitCode = 1;
