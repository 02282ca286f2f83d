#!/usr/bin/env node
// Secrets benchmark: the time `pipeseal run` adds to a trivial child (`true`), median of N runs,
// against running `true` directly in the same run (target < 150 ms, local keystore); and masking
// throughput on a child writing BENCH_SECRETS_MIB of output through `pipeseal run` (target
// >= 200 MB/s), against the same child under `pipeseal run --no-mask` and piped through `cat`.
// Standalone: `node bench/secrets.js` (after `npm run build`); also called at the end of bench/run.js.
//
// Env: BENCH_SECRETS_RUNS (default 20)  BENCH_SECRETS_MIB (default 1024)
// Report on stdout, raw data in bench/secrets-results.json.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, median, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const BIN = join(ROOT, "dist", "cli", "bin.js");
const log = (m) => process.stderr.write(`[bench secrets] ${m}\n`);
const SECRET = "sk-bench-9fQ2xL7mB4nV8cZ1kH6jD3sA5gT0wE";

function timed(cmd, args, env, extra = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"], ...extra });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function benchSecrets() {
  const runs = Number(process.env.BENCH_SECRETS_RUNS ?? 20);
  const mib = Number(process.env.BENCH_SECRETS_MIB ?? 1024);
  const dir = mkdtempSync(join(tmpdir(), "pipeseal-bench-secrets-"));
  const env = { PATH: process.env.PATH ?? "", PIPESEAL_HOME: join(dir, "ks"), PIPESEAL_PRINCIPAL: "bench" };
  try {
    spawnSync(process.execPath, [BIN, "init"], { env, stdio: "ignore" });
    spawnSync(process.execPath, [BIN, "secret", "set", "bench/key"], { env, input: SECRET, stdio: ["pipe", "ignore", "inherit"] });

    // 1. start-up overhead, interleaved so load changes hit every variant alike
    log(`run overhead: ${runs} runs each of \`true\`, \`node -e ""\`, \`pipeseal run --secret … -- true\``);
    const direct = [];
    const node = [];
    const run = [];
    const runNoSecret = [];
    for (let i = 0; i < runs; i++) {
      direct.push(timed("true", [], env));
      node.push(timed(process.execPath, ["-e", ""], env));
      run.push(timed(process.execPath, [BIN, "run", "--secret", "K=bench/key", "--", "true"], env));
      runNoSecret.push(timed(process.execPath, [BIN, "run", "--", "true"], env));
    }
    const added = median(run) - median(direct);

    // 2. masking throughput: a child writing `mib` MiB (1 MiB blocks of text holding the secret once per block)
    const child = join(dir, "writer.js");
    writeFileSync(
      child,
      `const block = Buffer.alloc(1 << 20, "x".repeat(79) + "\\n"); block.write(${JSON.stringify(SECRET)}, 4096);\n` +
        `let left = ${mib}; const out = process.stdout; function go() { while (left > 0) { left--; if (!out.write(block)) return out.once("drain", go); } } go();\n`,
    );
    const bytes = mib * (1 << 20);
    log(`masking: child writes ${mib} MiB to stdout`);
    const mbs = (ms) => bytes / 1e6 / (ms / 1000);
    const masked = timed(process.execPath, [BIN, "run", "--secret", "K=bench/key", "--", process.execPath, child], env);
    const unmasked = timed(process.execPath, [BIN, "run", "--no-mask", "--secret", "K=bench/key", "--", process.execPath, child], env);
    const piped = timed("sh", ["-c", `"${process.execPath}" "${child}" | cat`], env);
    // in-process masker alone on the same blocks
    const { StreamMasker, maskPatterns } = await import(join(ROOT, "dist", "secrets", "index.js"));
    const m = new StreamMasker(maskPatterns("bench/key", Buffer.from(SECRET)));
    const block = Buffer.alloc(1 << 16, "x".repeat(79) + "\n");
    const t0 = process.hrtime.bigint();
    const inBytes = Math.min(bytes, 256 << 20);
    for (let done = 0; done < inBytes; done += block.length) {
      const b = Buffer.from(block);
      b.write(SECRET, 1000);
      m.write(b);
    }
    m.end();
    const inMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const results = {
      runs,
      mib,
      overhead: {
        trueMedianMs: median(direct),
        nodeEmptyMedianMs: median(node),
        runMedianMs: median(run),
        runNoSecretMedianMs: median(runNoSecret),
        addedMs: added,
        targetMs: 150,
        pass: added < 150,
      },
      masking: {
        maskedMBs: mbs(masked),
        noMaskMBs: mbs(unmasked),
        pipeCatMBs: mbs(piped),
        maskerInProcessMBs: inBytes / 1e6 / (inMs / 1000),
        targetMBs: 200,
        pass: mbs(masked) >= 200,
      },
    };
    writeFileSync(join(BENCH, "secrets-results.json"), JSON.stringify(results, null, 2) + "\n");
    const o = results.overhead;
    const k = results.masking;
    process.stdout.write(
      [
        "",
        `Secrets: pipeseal run (median of ${runs}; local keystore)`,
        table(
          ["variant", "median ms"],
          [
            ["true (direct)", fmt(o.trueMedianMs, 1)],
            ['node -e "" (Node start-up alone)', fmt(o.nodeEmptyMedianMs, 1)],
            ["pipeseal run -- true", fmt(o.runNoSecretMedianMs, 1)],
            ["pipeseal run --secret K=… -- true", fmt(o.runMedianMs, 1)],
          ],
        ),
        `  ${o.pass ? "PASS" : "FAIL"}  time added by pipeseal run with one secret: ${fmt(o.addedMs, 1)} ms (target < 150 ms)`,
        "",
        `Secrets: masking a child's ${mib} MiB of stdout`,
        table(
          ["variant", "MB/s"],
          [
            ["pipeseal run (masking)", fmt(k.maskedMBs, 0)],
            ["pipeseal run --no-mask", fmt(k.noMaskMBs, 0)],
            ["child | cat", fmt(k.pipeCatMBs, 0)],
            ["StreamMasker in-process", fmt(k.maskerInProcessMBs, 0)],
          ],
        ),
        `  ${k.pass ? "PASS" : "FAIL"}  masking throughput ${fmt(k.maskedMBs, 0)} MB/s (target >= 200 MB/s)`,
        "",
      ].join("\n"),
    );
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSecrets();
