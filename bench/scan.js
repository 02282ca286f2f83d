#!/usr/bin/env node
// Scan benchmark: `pipeseal scan` against secretlint (recommended preset), same generated tree, same run.
// Standalone: `node bench/scan.js` (after `npm run build`); also called at the end of bench/run.js.
//
// Env: BENCH_SCAN_FILES (default 3000)  BENCH_SCAN_MB (target tree size, default 60)  BENCH_KEEP=1
// The tree is generated deterministically (seeded PRNG) into bench/.work/scan-tree: source files,
// configs, CI logs with ANSI codes and Jupyter notebooks, with planted credentials of every family
// secretlint's recommended preset knows plus look-alikes (UUIDs, hashes, versions, base64 blobs).
// Findings are compared by file + line. Progress goes to stderr, the report to stdout, raw data to
// bench/scan-results.json.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MB, fmt, log, mulberry32, runProc, table } from "./lib.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const TREE = join(BENCH, ".work", "scan-tree");
const CLI = join(ROOT, "dist", "cli", "main.js");
const SECRETLINT = join(ROOT, "node_modules", "secretlint", "bin", "secretlint.js");

// ---------------------------------------------------------------- deterministic generator
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64 = ALNUM + "+/";

function makeGen(seed) {
  const rnd = mulberry32(seed);
  const int = (n) => Math.floor(rnd() * n);
  const pick = (xs) => xs[int(xs.length)];
  const str = (n, alpha = ALNUM) => {
    let s = "";
    for (let i = 0; i < n; i++) s += alpha[int(alpha.length)];
    return s;
  };
  return { rnd, int, pick, str };
}

/**
 * Planted credentials: family → [secretlint rule, line builder]. `inScope` marks the families the
 * issue asks pipeseal to detect; the others are secretlint extras, reported separately.
 */
function families(g) {
  const { str, int, pick } = g;
  const pem = () =>
    ["-----BEGIN RSA PRIVATE KEY-----", ...Array.from({ length: 6 }, () => str(64, B64)), str(24, B64) + "==", "-----END RSA PRIVATE KEY-----"].join("\n");
  return [
    { id: "aws-access-key-id", inScope: true, line: () => `AWS_ACCESS_KEY_ID = "AKIA${str(16, B32)}"` },
    { id: "aws-secret-access-key", inScope: true, line: () => `aws_secret_access_key = "${str(40, ALNUM + "/+")}"` },
    { id: "github-token", inScope: true, line: () => `token: "ghp_${str(36)}"` },
    { id: "github-fine-grained", inScope: true, line: () => `GH_PAT=github_pat_${str(22)}_${str(59)}` },
    { id: "gitlab-token", inScope: true, line: () => `GITLAB_TOKEN = 'glpat-${str(20)}'` },
    { id: "slack-token", inScope: true, line: () => `slack_bot = "xoxb-${str(12, "0123456789")}-${str(13, "0123456789")}-${str(24)}"` },
    { id: "slack-webhook", inScope: true, line: () => `webhook = "https://hooks.slack.com/services/T${str(8, B32)}/B${str(8, B32)}/${str(24)}"` },
    { id: "private-key", inScope: true, line: pem },
    { id: "basic-auth-url", inScope: true, line: () => `REGISTRY = "https://deploy:${str(16)}@registry.example.com/v2/"` },
    { id: "db-connection-string", inScope: true, line: () => `DATABASE_URL = "postgres://app:${str(18)}@db.internal:5432/features"` },
    { id: "openai-key", inScope: true, line: () => `openai.api_key = "sk-proj-${str(64, ALNUM + "_-")}"` },
    { id: "openai-legacy", inScope: true, line: () => `OPENAI_API_KEY=sk-${str(20)}T3BlbkFJ${str(20)}` },
    { id: "anthropic-key", inScope: true, line: () => `ANTHROPIC_API_KEY = "sk-ant-api03-${str(93, ALNUM + "_-")}AA"` },
    { id: "huggingface-token", inScope: true, line: () => `HF_TOKEN = "hf_${str(34)}"` },
    { id: "stripe-key", inScope: true, line: () => `stripe.api_key = "sk_live_${str(24)}"` },
    { id: "google-api-key", inScope: true, line: () => `GOOGLE_API_KEY = "AIza${str(35, ALNUM + "_-")}"` },
    {
      id: "jwt",
      inScope: true,
      line: () => `Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${str(40 + int(40), ALNUM + "_-")}.${str(43, ALNUM + "_-")}`,
    },
    { id: "generic-secret", inScope: true, line: () => `${pick(["api_key", "client_secret", "auth_token"])} = "${str(32)}"` },
    // secretlint extras, outside the issue's detector list
    { id: "npm-token", inScope: false, line: () => `//registry.npmjs.org/:_authToken=npm_${str(36)}` },
    { id: "sendgrid-key", inScope: false, line: () => `SENDGRID_API_KEY = "SG.${str(22, ALNUM + "_-")}.${str(43, ALNUM + "_-")}"` },
    { id: "linear-key", inScope: false, line: () => `LINEAR_API_KEY = "lin_api_${str(40)}"` },
    { id: "shopify-token", inScope: false, line: () => `SHOPIFY_TOKEN = "shpat_${str(32, HEX)}"` },
  ];
}

/** Look-alikes that must not match, and ordinary code. */
function filler(g, lang) {
  const { str, int, pick } = g;
  const uuid = () => `${str(8, HEX)}-${str(4, HEX)}-4${str(3, HEX)}-${pick(["8", "9", "a", "b"])}${str(3, HEX)}-${str(12, HEX)}`;
  const word = () =>
    pick(["model", "batch", "loss", "epoch", "tokenizer", "dataset", "feature", "weights", "config", "step", "metric", "shard", "vocab", "layer"]);
  const lines = {
    py: [
      () => `    ${word()}_${int(99)} = ${word()}.${word()}(${int(1000)}, lr=${(g.rnd() / 100).toFixed(5)})`,
      () => `def ${word()}_${word()}(${word()}, ${word()}=None):`,
      () => `    return torch.tensor([${Array.from({ length: 8 }, () => int(1000)).join(", ")}])`,
      () => `RUN_ID = "${uuid()}"  # look-alike: uuid`,
      () => `CHECKSUM = "${str(64, HEX)}"  # sha256 of the shard`,
      () => `    logger.info("step %d ${word()} %.4f", step, ${word()})`,
      () => `# ${word()} ${word()} ${word()} — version ${int(9)}.${int(20)}.${int(30)}`,
    ],
    js: [
      () => `  const ${word()}${int(99)} = await ${word()}.${word()}({ id: "${uuid()}", size: ${int(1 << 20)} });`,
      () => `export function ${word()}${word()}(${word()}) {`,
      () => `  if (${word()}.length > ${int(500)}) throw new RangeError("${word()} too long");`,
      () => `  // commit ${str(40, HEX)}`,
      () => `  const etag = "${str(32, HEX)}";`,
      () => `}`,
    ],
    yaml: [
      () => `  ${word()}: ${int(10000)}`,
      () => `  image: registry.example.com/${word()}:${int(9)}.${int(20)}.${int(9)}`,
      () => `  digest: sha256:${str(64, HEX)}`,
      () => `- name: ${word()}-${word()}`,
    ],
    md: [
      () => `The ${word()} is split into ${int(64)} shards; each shard's ${word()} is checked.`,
      () => `Example card for docs: 4242 4242 4242 4242, id ${uuid()}.`,
      () => `| ${word()} | ${int(100)} | ${(g.rnd() * 100).toFixed(2)} |`,
    ],
    log: [
      () => `\x1b[32mINFO\x1b[0m ${new Date(1.7e12 + int(1e9)).toISOString()} ${word()} ${word()} step=${int(100000)} loss=${g.rnd().toFixed(4)}`,
      () => `\x1b[33mWARN\x1b[0m request ${uuid()} retried (${int(5)}/5)`,
      () => `##[group]Run ${word()}-${word()}`,
      () => `  blob ${str(76, B64)}`,
    ],
  };
  return lines[lang];
}

const KINDS = [
  { ext: "py", lang: "py", w: 30 },
  { ext: "ts", lang: "js", w: 15 },
  { ext: "js", lang: "js", w: 10 },
  { ext: "yaml", lang: "yaml", w: 10 },
  { ext: "env", lang: "yaml", w: 5 },
  { ext: "md", lang: "md", w: 10 },
  { ext: "log", lang: "log", w: 12 },
  { ext: "ipynb", lang: "py", w: 8 },
];

/** Writes the tree; returns the planted ground truth (file, line, family). */
export function generateTree(dir, { files, targetBytes, seed = 6 }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, ".git"), { recursive: true }); // the tree is its own repository (outer .gitignore rules stop here)
  writeFileSync(join(dir, ".secretlintrc.json"), JSON.stringify({ rules: [{ id: "@secretlint/secretlint-rule-preset-recommend" }] }, null, 2) + "\n");
  const g = makeGen(seed);
  const fams = families(g);
  const totalW = KINDS.reduce((a, k) => a + k.w, 0);
  const planted = [];
  let bytes = 0;
  const perFile = targetBytes / files;
  for (let i = 0; i < files; i++) {
    let r = g.int(totalW);
    const kind = KINDS.find((k) => (r -= k.w) < 0);
    const rel = `pkg${i % 40}/${["src", "lib", "conf", "notebooks", "ci"][i % 5]}/f${String(i).padStart(5, "0")}.${kind.ext}`;
    const fill = filler(g, kind.lang);
    const target = perFile * (0.3 + 1.4 * g.rnd());
    const lines = [];
    let size = 0;
    let nPlant = g.rnd() < 0.25 ? 1 + g.int(3) : 0;
    const plantAt = new Set(Array.from({ length: nPlant }, () => g.int(Math.max(1, Math.floor(target / 60)))));
    let idx = 0;
    const notebook = kind.ext === "ipynb";
    while (size < target) {
      if (plantAt.has(idx) && nPlant > 0) {
        nPlant--;
        const fam = fams[g.int(fams.length)];
        const text = fam.line();
        planted.push({ file: rel, family: fam.id, inScope: fam.inScope, index: lines.length });
        for (const l of text.split("\n")) lines.push(l);
      } else lines.push(g.pick(fill)());
      size += lines[lines.length - 1].length + 1;
      idx++;
    }
    let content;
    if (notebook) {
      // one cell per ~12 lines, sources as line arrays, as Jupyter writes them
      const cells = [];
      const lineOf = new Map();
      for (let c = 0; c * 12 < lines.length; c++) {
        const src = lines.slice(c * 12, c * 12 + 12).map((l, j, a) => (j < a.length - 1 ? l + "\n" : l));
        cells.push({
          cell_type: "code",
          execution_count: c + 1,
          id: `c${c}`,
          metadata: {},
          outputs: c % 3 === 0 ? [{ name: "stdout", output_type: "stream", text: ["done\n"] }] : [],
          source: src,
        });
      }
      content =
        JSON.stringify(
          { cells, metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } }, nbformat: 4, nbformat_minor: 5 },
          null,
          1,
        ) + "\n";
      // ground truth line = the raw JSON line of the planted source line
      const raw = content.split("\n");
      for (const p of planted.filter((p) => p.file === rel)) {
        const needle = JSON.stringify(lines[p.index]).slice(1, -1);
        p.line = raw.findIndex((l, k) => k >= (lineOf.get(needle) ?? 0) && l.includes(needle)) + 1;
        lineOf.set(needle, p.line);
      }
    } else {
      content = lines.join("\n") + "\n";
      for (const p of planted.filter((p) => p.file === rel)) p.line = p.index + 1;
    }
    mkdirSync(join(dir, dirname(rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
    bytes += Buffer.byteLength(content);
  }
  return { planted, bytes, files };
}

// ---------------------------------------------------------------- running both tools
async function runPipeseal() {
  const r = await runProc(process.execPath, [CLI, "scan", ".", "--json", "--max-file-size", "64MiB"], { cwd: TREE, stdout: "pipe" }).catch((e) => {
    if (e.result?.code === 1) return e.result; // 1 = findings: expected here
    throw e;
  });
  const doc = JSON.parse(r.stdout.toString("utf8"));
  return { seconds: r.seconds, rssKiB: r.rssKiB, findings: doc.findings.map((f) => ({ file: f.path, line: f.line, rule: f.detector })), stats: doc.stats };
}

async function runSecretlint() {
  const out = join(BENCH, ".work", "secretlint-out.json");
  rmSync(out, { force: true });
  const r = await runProc(process.execPath, [SECRETLINT, "**/*", "--format", "json", "--output", out], { cwd: TREE }).catch((e) => {
    if (e.result?.code === 1) return e.result;
    throw e;
  });
  const doc = JSON.parse(readFileSync(out, "utf8"));
  const findings = [];
  for (const file of doc) {
    const rel = file.filePath.startsWith(TREE) ? file.filePath.slice(TREE.length + 1) : file.filePath;
    for (const m of file.messages)
      findings.push({ file: rel, line: m.loc?.start?.line ?? m.range?.[0], rule: m.messageId ? `${m.ruleId}/${m.messageId}` : m.ruleId });
  }
  return { seconds: r.seconds, rssKiB: r.rssKiB, findings };
}

const key = (f) => `${f.file}:${f.line}`;

// ---------------------------------------------------------------- the benchmark
export async function benchScan() {
  const files = Number(process.env.BENCH_SCAN_FILES ?? 3000);
  const targetBytes = Number(process.env.BENCH_SCAN_MB ?? 60) * MB;
  if (!existsSync(CLI)) throw new Error("dist/cli/main.js missing: run `npm run build` first");
  log(`scan: generating ${files} files (~${fmt(targetBytes / MB, 0)} MB) in ${TREE}`);
  const tree = generateTree(TREE, { files, targetBytes });
  log(`scan: ${tree.files} files, ${fmt(tree.bytes / MB, 1)} MB, ${tree.planted.length} planted credentials`);

  log("scan: pipeseal scan");
  const ps = await runPipeseal();
  log(`scan: pipeseal ${fmt(ps.seconds, 2)} s, ${ps.findings.length} findings`);
  log("scan: secretlint (recommended preset)");
  const sl = await runSecretlint();
  log(`scan: secretlint ${fmt(sl.seconds, 2)} s, ${sl.findings.length} findings`);

  const psKeys = new Set(ps.findings.map(key));
  const slKeys = new Set(sl.findings.map(key));
  const plantedKeys = new Map(tree.planted.map((p) => [key(p), p]));
  const missed = sl.findings.filter((f) => !psKeys.has(key(f)));
  // a secretlint finding is "in scope" unless it sits on a line planted with a secretlint-only family
  const outOfScope = (f) => plantedKeys.get(key(f))?.inScope === false;
  const missedInScope = missed.filter((f) => !outOfScope(f));
  const missedOut = missed.filter(outOfScope);
  const recall = (keys, inScopeOnly) => {
    const ps_ = tree.planted.filter((p) => !inScopeOnly || p.inScope);
    return ps_.filter((p) => keys.has(key(p))).length / ps_.length;
  };
  const byRule = (xs) =>
    Object.entries(xs.reduce((m, f) => ((m[f.rule] = (m[f.rule] ?? 0) + 1), m), {}))
      .map(([r, n]) => `${r} ×${n}`)
      .join(", ");
  const mbs = (s) => tree.bytes / MB / s;

  const result = {
    tree: { files: tree.files, bytes: tree.bytes, planted: tree.planted.length, plantedInScope: tree.planted.filter((p) => p.inScope).length },
    pipeseal: {
      seconds: ps.seconds,
      MBs: mbs(ps.seconds),
      rssKiB: ps.rssKiB,
      findings: ps.findings.length,
      plantedRecall: recall(psKeys, false),
      plantedRecallInScope: recall(psKeys, true),
      stats: ps.stats,
    },
    secretlint: {
      seconds: sl.seconds,
      MBs: mbs(sl.seconds),
      rssKiB: sl.rssKiB,
      findings: sl.findings.length,
      plantedRecall: recall(slKeys, false),
      plantedRecallInScope: recall(slKeys, true),
    },
    missedBySecretlintFound: missed.length,
    missedInScope: missedInScope.map((f) => ({ ...f })),
    missedOutOfScope: missedOut.length,
    missedOutOfScopeRules: byRule(missedOut),
    pipesealOnly: ps.findings.filter((f) => !slKeys.has(key(f))).length,
  };
  const faster = ps.seconds < sl.seconds;
  const superset = missedInScope.length === 0;
  result.pass = faster && superset;

  const out = [];
  out.push("");
  out.push(
    `Secret scan (same tree, same run): ${tree.files} files, ${fmt(tree.bytes / MB, 1)} MB, ${tree.planted.length} planted credentials (${result.tree.plantedInScope} of families in pipeseal's scope)`,
  );
  out.push(
    table(
      ["tool", "wall s", "MB/s", "peak RSS MiB", "findings", "planted found", "planted found (in scope)"],
      [
        [
          "pipeseal scan",
          fmt(ps.seconds, 2),
          fmt(result.pipeseal.MBs, 1),
          ps.rssKiB ? fmt(ps.rssKiB / 1024, 0) : "-",
          String(ps.findings.length),
          fmt(result.pipeseal.plantedRecall, 3),
          fmt(result.pipeseal.plantedRecallInScope, 3),
        ],
        [
          "secretlint recommend",
          fmt(sl.seconds, 2),
          fmt(result.secretlint.MBs, 1),
          sl.rssKiB ? fmt(sl.rssKiB / 1024, 0) : "-",
          String(sl.findings.length),
          fmt(result.secretlint.plantedRecall, 3),
          fmt(result.secretlint.plantedRecallInScope, 3),
        ],
      ],
    ),
  );
  out.push(
    `secretlint findings (file+line) pipeseal did not report: ${missed.length} — in scope ${missedInScope.length}${missedInScope.length ? ` (${byRule(missedInScope)})` : ""}; secretlint-only families (npm, SendGrid, Linear, Shopify) ${missedOut.length}${missedOut.length ? ` (${result.missedOutOfScopeRules})` : ""}`,
  );
  out.push(
    `pipeseal findings secretlint did not report: ${result.pipesealOnly} (PII, notebooks behind escaped quotes, families secretlint lacks, and any false positives)`,
  );
  out.push(
    `${result.pass ? "PASS" : "FAIL"}  scan: faster than secretlint (${fmt(sl.seconds / ps.seconds, 2)}×) ${faster ? "yes" : "NO"}; finds everything secretlint finds in pipeseal's detector families: ${superset ? "yes" : `NO (${missedInScope.length} missed)`}`,
  );
  process.stdout.write(out.join("\n") + "\n");
  writeFileSync(join(BENCH, "scan-results.json"), JSON.stringify(result, null, 2) + "\n");
  if (process.env.BENCH_KEEP !== "1") rmSync(TREE, { recursive: true, force: true });
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  benchScan().then(
    (r) => (process.exitCode = r.pass ? 0 : 1),
    (e) => {
      process.stderr.write(`bench/scan.js: ${e.stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
