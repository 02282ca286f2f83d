import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { verifyPrivacyLedger } from "../../src/privacy/index.js";
import { CLI, cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

const DIST = fileURLToPath(new URL("../../dist", import.meta.url));
let dir: string;
let env: Record<string, string>;
let sealed: string;
const TRUE_DE = 40;

const ok = (args: string[]) => {
  const r = cli(args, env);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.toString();
};
const json = (args: string[]) => JSON.parse(ok([...args, "--json"]));

beforeAll(() => {
  dir = tempDir("pipeseal-dp-");
  env = { PIPESEAL_HOME: path.join(dir, "ks"), PIPESEAL_PRINCIPAL: "analyst" };
  ok(["init"]);
  ok(["key", "create", "datasets/raw"]);
  const rows = ["customer_id,country,spend,age"];
  for (let i = 0; i < 100; i++) rows.push(`${i % 50},${i < TRUE_DE ? "DE" : "FR"},${i * 7},${18 + (i % 60)}`);
  writeFileSync(path.join(dir, "customers.csv"), rows.join("\n") + "\n");
  ok(["encrypt", "--key", "datasets/raw", path.join(dir, "customers.csv")]);
  sealed = path.join(dir, "customers.csv.pseal");
}, 120_000);

describe("pipeseal dp (the built CLI)", () => {
  // each CLI call starts a process (1.5–5 s on a loaded 2-core machine): generous timeouts
  it("runs the README recipes: budget set, count/sum/mean/histogram/quantile on a sealed CSV, budget show", () => {
    const b = json(["dp", "budget", "set", "datasets/customers", "--epsilon", "30", "--delta", "1e-6"]);
    expect(b).toMatchObject({ name: "datasets/customers", kind: "approx-dp", epsilon: 30, delta: 1e-6 });
    const count = json(["dp", "count", sealed, "--where", "country=DE", "--epsilon", "0.5", "--budget", "datasets/customers"]);
    expect(count).toMatchObject({ mechanism: "laplace", epsilon: 0.5, parts: [{ name: "count", sensitivity: 1, noiseScale: 2, granularity: 1 }] });
    expect(count.ci95.hi - count.ci95.lo).toBe(12); // ±6: P(|Z| ≤ 6) ≥ 0.95 for scale 2
    expect(count.value).toBeGreaterThanOrEqual(count.ci95.lo);
    const sum = json(["dp", "sum", sealed, "--column", "spend", "--bounds", "0:500", "--epsilon", "0.5", "--budget", "datasets/customers"]);
    expect(sum.parts[0]).toMatchObject({ sensitivity: 500 });
    expect(sum.parts[0].noiseScale).toBeCloseTo(1000, 6);
    expect(Number.isInteger(Math.log2(sum.parts[0].granularity))).toBe(true); // a power-of-two grid
    expect(Number.isInteger(sum.value / sum.parts[0].granularity)).toBe(true); // the release lies on it
    const mean = json(["dp", "mean", sealed, "--column", "age", "--bounds", "0:120", "--epsilon", "5", "--budget", "datasets/customers"]);
    expect(mean.parts.map((p: { name: string }) => p.name)).toEqual(["count", "centred sum"]);
    expect(mean.value).toBeGreaterThanOrEqual(0);
    const hist = json(["dp", "histogram", sealed, "--column", "age", "--bins", "0,18,30,45,65,120", "--epsilon", "0.5", "--budget", "datasets/customers"]);
    expect(hist.bins.map((x: { lo: number }) => x.lo)).toEqual([0, 18, 30, 45, 65]);
    const q = json([
      "dp",
      "quantile",
      sealed,
      "--column",
      "spend",
      "--bounds",
      "0:700",
      "--q",
      "0.5,0.9",
      "--epsilon",
      "0.5",
      "--budget",
      "datasets/customers",
    ]);
    expect(q.quantiles.map((x: { q: number }) => x.q)).toEqual([0.5, 0.9]);
    const bounded = json([
      "dp",
      "count",
      sealed,
      "--privacy-unit",
      "customer_id",
      "--max-contributions",
      "3",
      "--epsilon",
      "0.5",
      "--budget",
      "datasets/customers",
    ]);
    expect(bounded).toMatchObject({ privacyUnit: "customer_id", maxContributions: 3, parts: [{ sensitivity: 3, noiseScale: 6 }] });
    const gauss = json(["dp", "count", sealed, "--mechanism", "gaussian", "--epsilon", "1", "--budget", "datasets/customers"]);
    expect(gauss).toMatchObject({ mechanism: "gaussian", delta: 1e-6 });
    const human = ok(["dp", "count", path.join(dir, "customers.csv"), "--epsilon", "1", "--budget", "datasets/customers"]);
    expect(human).toMatch(/^-?\d+ {2}\(95% CI -?\d+ … -?\d+; laplace, ε 1, noise scale 1\)\n$/);
    const show = json(["dp", "budget", "show", "datasets/customers"]);
    expect(show.spends).toHaveLength(8);
    expect(show.spends[0]).toMatchObject({ principal: "analyst", mechanism: "laplace", epsilon: 0.5, query: "count where country=DE", input: sealed });
    expect(show.spent.total).toBeGreaterThan(8);
    expect(ok(["dp", "budget", "show", "datasets/customers"])).toContain("count where country=DE");
    const audit = JSON.parse(ok(["audit", "list", "--json"])) as { operation: string; outcome: string }[];
    expect(audit.filter((r) => r.operation === "dp.spend" && r.outcome === "ok")).toHaveLength(8);
    expect(ok(["audit", "verify"])).toContain("privacy ledger ok: 1 budgets, 8 spends");
  }, 180_000);

  it("refuses an overspend in one line, exit 7, reading nothing", () => {
    ok(["dp", "budget", "set", "tiny", "--epsilon", "1"]);
    ok(["dp", "count", sealed, "--epsilon", "0.6", "--budget", "tiny"]);
    const decrypts = () => (JSON.parse(ok(["audit", "list", "--json"])) as { operation: string }[]).filter((r) => r.operation === "decrypt").length;
    const before = decrypts();
    const r = cli(["dp", "count", sealed, "--epsilon", "0.6", "--budget", "tiny"], env);
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(
      /^pipeseal: the privacy budget tiny has 0\.4 ε left of 1; this query needs more \(nothing was read\) \[PRIVACY_BUDGET_EXHAUSTED\]\n$/,
    );
    expect(decrypts()).toBe(before);
  }, 180_000);

  it("typed one-line errors for bad arguments and data", () => {
    ok(["dp", "budget", "set", "errs", "--epsilon", "100"]);
    const cases: [string[], RegExp][] = [
      [
        ["dp", "sum", sealed, "--column", "spend", "--bounds", "5:1", "--epsilon", "1", "--budget", "errs"],
        /bounds must be finite numbers with lo < hi \[INVALID_ARGUMENT\]/,
      ],
      [
        ["dp", "sum", sealed, "--column", "nope", "--bounds", "0:1", "--epsilon", "1", "--budget", "errs"],
        /unknown column "nope": no row has it \[INVALID_ARGUMENT\]/,
      ],
      [
        ["dp", "sum", sealed, "--column", "country", "--bounds", "0:1", "--epsilon", "1", "--budget", "errs"],
        /row 1, column country: the value is not a finite number \[INVALID_ARGUMENT\]/,
      ],
      [["dp", "count", sealed, "--epsilon", "1", "--budget", "missing"], /no privacy budget missing.*\[PRIVACY_BUDGET_NOT_FOUND\]/],
      [["dp", "count", sealed, "--mechanism", "gaussian", "--epsilon", "1", "--budget", "errs"], /Gaussian mechanism needs --delta .*\[INVALID_ARGUMENT\]/],
      [["dp", "count", path.join(dir, "none.csv"), "--epsilon", "1", "--budget", "errs"], /no such file.*\[INVALID_ARGUMENT\]/],
      // the issue's example omits --bounds: the one line says why DP quantiles need them
      [
        ["dp", "quantile", sealed, "--column", "spend", "--q", "0.5,0.9", "--epsilon", "1", "--budget", "errs"],
        /^pipeseal: DP quantiles need public --bounds lo:hi, chosen without looking at the data: the quantiles are searched for within them \(the data's own min and max are not private\) \[INVALID_ARGUMENT\]\n$/,
      ],
      [
        ["dp", "sum", sealed, "--column", "spend", "--epsilon", "1", "--budget", "errs"],
        /^pipeseal: a DP sum needs public --bounds lo:hi.*\[INVALID_ARGUMENT\]\n$/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split("\n")).toHaveLength(2);
      expect(r.stderr).not.toMatch(/\bDE\b|\bFR\b/); // no value from the data
    }
  }, 180_000);
});

function run(args: string[], e: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...e }, stdio: "ignore" });
    child.on("exit", (code) => resolve(code));
  });
}

describe("budgets across processes", () => {
  it("two processes at once cannot overspend: exactly one of each pair gets the budget", async () => {
    for (let round = 0; round < 3; round++) {
      const name = `race-${round}`;
      ok(["dp", "budget", "set", name, "--epsilon", "1"]);
      const codes = await Promise.all([0, 1].map(() => run(["dp", "count", sealed, "--epsilon", "0.6", "--budget", name], env)));
      expect(codes.sort()).toEqual([0, 7]);
      expect(json(["dp", "budget", "show", name]).spends).toHaveLength(1);
    }
  }, 180_000);

  it("the ledger and its audit records survive kill -9 mid-spend", async () => {
    const home = path.join(dir, "ks-crash");
    const e3 = { ...env, PIPESEAL_HOME: home };
    expect(cli(["init"], e3).status).toBe(0);
    expect(cli(["key", "create", "datasets/raw"], e3).status).toBe(0);
    const input = path.join(dir, "crash.csv");
    writeFileSync(input, "a\n" + "1\n".repeat(200));
    expect(cli(["encrypt", "--key", "datasets/raw", input], e3).status).toBe(0);
    expect(cli(["dp", "budget", "set", "loop", "--epsilon", "1000"], e3).status).toBe(0);
    const fixture = fileURLToPath(new URL("./fixtures/spend-loop.mjs", import.meta.url));
    let last = 0;
    for (let round = 0; round < 4; round++) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture, DIST, home, `${input}.pseal`], { stdio: ["ignore", "pipe", "pipe"] });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.stdout.on("data", (d) => {
          if (String(d).includes("ready")) setTimeout(() => child.kill("SIGKILL"), 300 + round * 137);
        });
        child.on("exit", (_c, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`loop ended on its own: ${err}`))));
      });
      const raw = new Database(path.join(home, "keystore.db"));
      expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      raw.close();
      const ks = await openKeystore(home);
      try {
        expect(ks.verifyAudit().problems).toEqual([]);
        const ledger = verifyPrivacyLedger(ks);
        expect(ledger.problems).toEqual([]);
        const recorded = ks.listAudit().filter((r) => r.operation === "dp.spend" && r.outcome === "ok").length;
        expect(ledger.spends).toBe(recorded); // every committed spend has its record and vice versa
        expect(ledger.spends).toBeGreaterThan(last); // the loop made progress
        last = ledger.spends;
      } finally {
        ks.close();
      }
    }
    expect(cli(["audit", "verify"], e3).status).toBe(0);
  }, 180_000);
});
