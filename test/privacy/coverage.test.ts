/**
 * End to end on a sealed CSV: released values fall inside their stated 95% intervals at the
 * rate the mechanism says, over 200 runs, every one the real query path. Run 1 is the built
 * CLI; runs 2–200 call runPrivateQuery (the library call the CLI makes) on the same sealed
 * file: each spends from the budget with its audit record, decrypts the file in memory (its
 * unwrap audited), bounds and aggregates, and adds fresh node:crypto noise. The test checks the
 * ledger and the audit log hold 200 spends and 200 decrypts.
 *
 * The input has 5,000 rows, not the 100,000: the coverage depends on the noise alone,
 * not on the row count, and one run costs ~50 ms at 5,000 rows (mostly the two fsynced
 * transactions) against ~650 ms at 100,000, so 200 runs of each query stay near 10–20 s on the
 * loaded 2-core machine instead of minutes.
 *
 * Why the assertion is sound: with p the interval's exact coverage under the mechanism (from
 * the noise's CDF in fit.ts, independent of noise.ts's closed forms), hits ~ Binomial(200, p).
 * The test fails when hits fall below the binomial's 1e-5 lower quantile (175 at p = 0.95):
 * a false failure once in 100,000 runs per case, while a true coverage of 0.85 fails 81% of
 * the time and 0.80 more than 99%. 200 runs cannot tell 0.95 from 0.93; that part is exact
 * instead: p ≥ 0.95 at the stated half-width m, and p < 0.95 at m − 1 (so the interval is
 * not too wide either, which a hit count this small could not see).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encryptFile } from "../../src/envelope/files.js";
import { openKeystore } from "../../src/keys/index.js";
import { type DpQuery, type DpRelease, PrivacyLedger, runPrivateQuery } from "../../src/privacy/index.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import { binomialLowerBound, gaussianCdf, laplaceCdf } from "./stats.js";

const ROWS = 5_000;
const RUNS = 200;
const ALPHA = 1e-5;
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
    const spend = (x % 2400) / 4; // quarters, exact on the sum's 2^-23 grid: the true sum is the released one's centre
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
  expect(readFileSync(sealed).includes("country")).toBe(false); // the input really is sealed
}, 120_000);

type Coverage = (halfWidthUnits: number, scaleUnits: number) => number;
const laplaceCoverage: Coverage = (m, b) => laplaceCdf(b, m) - laplaceCdf(b, -m - 1);
const gaussianCoverage: Coverage = (m, s) => gaussianCdf(s, m) - gaussianCdf(s, -m - 1);

/** Successful decrypts in the audit log (opened and closed around the CLI, which appends to the same chain). */
async function decrypts(): Promise<number> {
  const ks = await openKeystore(env.PIPESEAL_HOME!);
  try {
    return ks.listAudit().filter((a) => a.operation === "decrypt" && a.outcome === "ok").length;
  } finally {
    ks.close();
  }
}

async function coverage(budget: string, args: string[], query: DpQuery, exactValue: number, coverageOf: Coverage): Promise<void> {
  expect(cli(["dp", "budget", "set", budget, "--epsilon", "1000", "--delta", "1e-6"], env).status).toBe(0);
  const decryptsBefore = await decrypts();
  const r = cli([...args, "--budget", budget, "--json"], env);
  expect(r.stderr).toBe("");
  const releases: Pick<DpRelease, "ci95" | "parts">[] = [JSON.parse(r.stdout.toString())];
  const ks = await openKeystore(env.PIPESEAL_HOME!, { principal: "analyst" });
  try {
    for (let i = 1; i < RUNS; i++) releases.push(await runPrivateQuery(ks, query, { budget, input: sealed }));
    // every run spent from the budget with its audit record (run 1 in the CLI's process)…
    expect(new PrivacyLedger(ks).show(budget).spends).toHaveLength(RUNS);
    expect(ks.listAudit().filter((a) => a.operation === "dp.spend" && a.outcome === "ok" && a.objectPath === `dp-budget:${budget}`)).toHaveLength(RUNS);
  } finally {
    ks.close();
  }
  expect((await decrypts()) - decryptsBefore).toBe(RUNS); // …and decrypted the sealed file

  const { granularity: g, noiseScale } = releases[0]!.parts[0]!;
  const widths = releases.map((out) => out.ci95!.hi - out.ci95!.lo);
  // the interval comes from the mechanism alone: the same width in every run, CLI or library
  for (const w of widths) expect(w).toBeCloseTo(widths[0]!, 6);
  const hits = releases.filter((out) => out.ci95!.lo <= exactValue && exactValue <= out.ci95!.hi).length;
  const m = Math.round(widths[0]! / 2 / g);
  const b = noiseScale / g;
  const p = coverageOf(m, b);
  expect(p).toBeGreaterThanOrEqual(0.95);
  expect(coverageOf(m - 1, b)).toBeLessThan(0.95); // m is the least half-width that covers 95%
  expect(hits).toBeGreaterThanOrEqual(binomialLowerBound(RUNS, p, ALPHA));
}

describe(`end to end on a ${ROWS.toLocaleString("en")}-row sealed CSV, ${RUNS} runs through the query path`, () => {
  it("the binomial bound is what the header says", () => {
    expect(binomialLowerBound(RUNS, 0.95, ALPHA)).toBe(175);
    expect(binomialLowerBound(10, 0.5, 0.5)).toBe(5); // P(X < 5) = 0.377 ≤ 0.5 < P(X < 6) = 0.623
  });

  it("Laplace counts fall inside their 95% intervals at the stated rate", async () => {
    await coverage(
      "cov-count",
      ["dp", "count", sealed, "--where", "country=DE", "--epsilon", "0.5"],
      { kind: "count", where: [{ column: "country", value: "DE" }], epsilon: "0.5" },
      truth.de,
      laplaceCoverage,
    );
  }, 120_000);

  it("Gaussian counts too", async () => {
    await coverage(
      "cov-gauss",
      ["dp", "count", sealed, "--where", "country=DE", "--mechanism", "gaussian", "--epsilon", "0.5"],
      { kind: "count", where: [{ column: "country", value: "DE" }], mechanism: "gaussian", epsilon: "0.5" },
      truth.de,
      gaussianCoverage,
    );
  }, 120_000);

  it("and clamped Laplace sums (on the 2^k grid)", async () => {
    await coverage(
      "cov-sum",
      ["dp", "sum", sealed, "--column", "spend", "--bounds", "0:500", "--epsilon", "0.5"],
      { kind: "sum", column: "spend", bounds: [0, 500], epsilon: "0.5" },
      truth.spendSum,
      laplaceCoverage,
    );
  }, 120_000);
});
