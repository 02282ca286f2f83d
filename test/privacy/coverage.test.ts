/**
 * End to end on a sealed CSV of 100,000 synthetic rows: released values fall inside their
 * stated 95% intervals at the rate the mechanism says, over 200 runs. The CLI runs the query
 * once (the real path: budget spend, audited in-memory decrypt, release); the other 199 runs
 * reuse one sealed read: `collect` over the decrypted rows once, then `release` 199 times with
 * fresh node:crypto noise — the same two calls runPrivateQuery makes, minus re-reading the
 * file, since the exact aggregate of a fixed file does not change between runs.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptFile } from "../../src/envelope/files.js";
import { openKeystore } from "../../src/keys/index.js";
import { type DpQuery, type ExactAggregate, collect, planQuery, readInput, release } from "../../src/privacy/index.js";
import { cryptoRandomSource } from "../../src/privacy/sampling/random.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import { gaussianCdf, laplaceCdf } from "./stats.js";

const ROWS = 100_000;
const RUNS = 200;
let env: Record<string, string>;
let sealed: string;
const truth = { de: 0, spendSum: 0 };

beforeAll(async () => {
  const dir = tempDir("pipeseal-dp-e2e-");
  env = { PIPESEAL_HOME: path.join(dir, "ks"), PIPESEAL_PRINCIPAL: "analyst" };
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["key", "create", "datasets/raw"], env).status).toBe(0);
  const lines = ["id,country,spend"];
  let x = 12345;
  for (let i = 0; i < ROWS; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31; // a fixed synthetic dataset
    const de = x % 3 === 0;
    const spend = (x % 60000) / 100;
    if (de) truth.de++;
    truth.spendSum += Math.min(spend, 500);
    lines.push(`${i},${de ? "DE" : "FR"},${spend}`);
  }
  writeFileSync(path.join(dir, "customers.csv"), lines.join("\n") + "\n");
  const ks = await openKeystore(env.PIPESEAL_HOME!);
  try {
    await encryptFile(ks, path.join(dir, "customers.csv"), path.join(dir, "customers.csv.pseal"), { keyName: "datasets/raw" });
  } finally {
    ks.close();
  }
  sealed = path.join(dir, "customers.csv.pseal");
  expect(cli(["dp", "budget", "set", "datasets/customers", "--epsilon", "10", "--delta", "1e-6"], env).status).toBe(0);
}, 120_000);

/** 200·p ± 4 standard deviations, where p is the interval's exact coverage under the mechanism. */
function expectRate(hits: number, p: number): void {
  const sd = Math.sqrt(RUNS * p * (1 - p));
  expect(p).toBeGreaterThanOrEqual(0.95);
  expect(hits).toBeGreaterThanOrEqual(Math.floor(RUNS * p - 4 * sd));
  expect(hits).toBeLessThanOrEqual(Math.min(RUNS, Math.ceil(RUNS * p + 4 * sd)));
}

async function coverage(args: string[], query: DpQuery, exactValue: number, coverageOf: (halfWidthUnits: number, scaleUnits: number) => number): Promise<void> {
  const r = cli([...args, "--budget", "datasets/customers", "--json"], env);
  expect(r.stderr).toBe("");
  const first = JSON.parse(r.stdout.toString());
  let hits = first.ci95.lo <= exactValue && exactValue <= first.ci95.hi ? 1 : 0;

  const ks = await openKeystore(env.PIPESEAL_HOME!);
  let exact: ExactAggregate;
  try {
    exact = await collect(query, readInput(sealed, { keyring: ks }), cryptoRandomSource());
  } finally {
    ks.close();
  }
  const plan = planQuery(query, 1e-6);
  const rng = cryptoRandomSource();
  let width = 0;
  for (let i = 1; i < RUNS; i++) {
    const out = release(plan, exact, rng, "repeat");
    if (out.ci95!.lo <= exactValue && exactValue <= out.ci95!.hi) hits++;
    width = out.ci95!.hi - out.ci95!.lo;
  }
  expect(width).toBeCloseTo(first.ci95.hi - first.ci95.lo, 6); // the interval comes from the mechanism alone
  const g = first.parts[0].granularity;
  expectRate(hits, coverageOf(Math.round(width / 2 / g), first.parts[0].noiseScale / g));
}

describe(`end to end on a ${ROWS.toLocaleString("en")}-row sealed CSV, ${RUNS} runs`, () => {
  it("Laplace counts fall inside their 95% intervals at the stated rate", async () => {
    await coverage(["dp", "count", sealed, "--where", "country=DE", "--epsilon", "0.5"], { kind: "count", where: [{ column: "country", value: "DE" }], epsilon: "0.5" }, truth.de, (m, b) => laplaceCdf(b, m) - laplaceCdf(b, -m - 1));
  }, 120_000);

  it("Gaussian counts too", async () => {
    await coverage(["dp", "count", sealed, "--where", "country=DE", "--mechanism", "gaussian", "--epsilon", "0.5"], { kind: "count", where: [{ column: "country", value: "DE" }], mechanism: "gaussian", epsilon: "0.5" }, truth.de, (m, s) => gaussianCdf(s, m) - gaussianCdf(s, -m - 1));
  }, 120_000);

  it("and clamped Laplace sums (on the 2^k grid)", async () => {
    await coverage(["dp", "sum", sealed, "--column", "spend", "--bounds", "0:500", "--epsilon", "0.5"], { kind: "sum", column: "spend", bounds: [0, 500], epsilon: "0.5" }, truth.spendSum, (m, b) => laplaceCdf(b, m) - laplaceCdf(b, -m - 1));
  }, 120_000);
});
