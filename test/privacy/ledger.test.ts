import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { PrivacyLedger, planQuery, verifyPrivacyLedger } from "../../src/privacy/index.js";
import { freshKeystore } from "../helpers/keystore.js";

const laplace = (epsilon: string) => planQuery({ kind: "count", epsilon }).cost;
const what = { mechanism: "laplace" as const, query: "count", input: "/data/x.csv" };

async function ledgerWithBudget(spec: Parameters<PrivacyLedger["setBudget"]>[1]) {
  const { ks, home } = await freshKeystore([]);
  const ledger = new PrivacyLedger(ks);
  ledger.setBudget("datasets/customers", spec);
  return { ks, home, ledger, db: path.join(home, "keystore.db") };
}

describe("privacy budget ledger", () => {
  it("composes pure ε exactly: ten spends of 0.1 fit in 1, the eleventh is refused and audited as denied", async () => {
    const { ks, ledger } = await ledgerWithBudget({ epsilon: "1" });
    for (let i = 0; i < 10; i++) ledger.spend("datasets/customers", laplace("0.1"), what);
    expect(() => ledger.spend("datasets/customers", laplace("0.1"), what)).toThrow(expect.objectContaining({ code: "PRIVACY_BUDGET_EXHAUSTED" }));
    const info = ledger.show("datasets/customers");
    expect(info.spends).toHaveLength(10);
    expect(info.spent.total).toBe(1);
    expect(info.spent.left).toBe(0);
    const spends = ks.listAudit().filter((r) => r.operation === "dp.spend");
    expect(spends.map((r) => r.outcome)).toEqual([...Array(10).fill("ok"), "denied"]);
    expect(spends.at(-1)?.errorCode).toBe("PRIVACY_BUDGET_EXHAUSTED");
    expect(verifyPrivacyLedger(ks).ok).toBe(true);
  });

  it("accounts Gaussian spends in zCDP and converts to (ε, δ): ρ + 2·sqrt(ρ ln(1/δ))", async () => {
    const { ledger } = await ledgerWithBudget({ epsilon: "1.8", delta: 1e-6 });
    const plan = planQuery({ kind: "count", mechanism: "gaussian", epsilon: "0.5" }, 1e-6);
    expect(plan.cost.rho).toBeDefined();
    const rho = Number(plan.cost.rho!.num) / Number(plan.cost.rho!.den);
    expect(rho + 2 * Math.sqrt(rho * Math.log(1e6))).toBeLessThanOrEqual(0.5);
    expect(rho + 2 * Math.sqrt(rho * Math.log(1e6))).toBeGreaterThan(0.4999);
    ledger.spend("datasets/customers", plan.cost, { ...what, mechanism: "gaussian" });
    ledger.spend("datasets/customers", plan.cost, { ...what, mechanism: "gaussian" });
    const info = ledger.show("datasets/customers");
    // two ρ add to 2ρ before the conversion: less than 2 × 0.5
    expect(info.spent.total).toBeLessThan(1);
    expect(info.spent.total).toBeCloseTo(2 * rho + 2 * Math.sqrt(2 * rho * Math.log(1e6)), 9);
    ledger.spend("datasets/customers", laplace("1"), what); // 1 + ε(2ρ) ≈ 1.70 ≤ 1.8
    expect(ledger.show("datasets/customers").spent.total).toBeLessThan(1.8);
    // a third: 1 + ε(3ρ) ≈ 1.86 > 1.8 (three separate conversions would need 2.5)
    expect(() => ledger.spend("datasets/customers", plan.cost, { ...what, mechanism: "gaussian" })).toThrow(
      expect.objectContaining({ code: "PRIVACY_BUDGET_EXHAUSTED" }),
    );
  });

  it("a zCDP budget charges ε²/2 for pure spends; a pure-ε budget refuses Gaussian spends", async () => {
    const { ledger } = await ledgerWithBudget({ rho: "0.5" });
    ledger.spend("datasets/customers", laplace("0.5"), what); // 0.125
    ledger.spend("datasets/customers", planQuery({ kind: "count", mechanism: "gaussian", rho: "0.375" }).cost, { ...what, mechanism: "gaussian" });
    expect(ledger.show("datasets/customers").spent.total).toBe(0.5);
    expect(() => ledger.spend("datasets/customers", laplace("0.001"), what)).toThrow(expect.objectContaining({ code: "PRIVACY_BUDGET_EXHAUSTED" }));

    const pure = new PrivacyLedger((await freshKeystore([])).ks);
    pure.setBudget("b", { epsilon: 5 });
    expect(() => pure.spend("b", planQuery({ kind: "count", mechanism: "gaussian", rho: "0.01" }).cost, what)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("refuses unknown budgets, bad limits and a new limit below what was spent", async () => {
    const { ledger } = await ledgerWithBudget({ epsilon: "1" });
    expect(() => ledger.spend("nope", laplace("0.1"), what)).toThrow(expect.objectContaining({ code: "PRIVACY_BUDGET_NOT_FOUND" }));
    expect(() => ledger.setBudget("x", { epsilon: "-1" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => ledger.setBudget("x", { epsilon: "1", rho: "1" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => ledger.setBudget("x", { epsilon: "1", delta: 1 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => ledger.setBudget("bad name!", { epsilon: "1" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    ledger.spend("datasets/customers", laplace("0.6"), what);
    expect(() => ledger.setBudget("datasets/customers", { epsilon: "0.5" })).toThrow(expect.objectContaining({ code: "PRIVACY_BUDGET_EXHAUSTED" }));
    expect(ledger.setBudget("datasets/customers", { epsilon: "2" }).spent.left).toBeCloseTo(1.4, 12);
  });
});

describe("audit verify catches a tampered ledger", () => {
  async function spentTwice() {
    const t = await ledgerWithBudget({ epsilon: "1" });
    t.ledger.spend("datasets/customers", laplace("0.5"), what);
    t.ledger.spend("datasets/customers", laplace("0.5"), what);
    expect(verifyPrivacyLedger(t.ks).ok).toBe(true);
    return t;
  }
  const sql = (db: string, statement: string) => {
    const raw = new Database(db);
    raw.prepare(statement).run();
    raw.close();
  };

  it("an edited spend (a smaller ε, to regain budget)", async () => {
    const { ks, db, ledger } = await spentTwice();
    sql(db, "UPDATE dp_spends SET epsilon = '1/100' WHERE rowid = 1");
    expect(ledger.show("datasets/customers").spent.left).toBeGreaterThan(0.4); // the attack works on the table…
    const r = verifyPrivacyLedger(ks);
    expect(r.ok).toBe(false); // …and verify names it
    expect(r.problems).toEqual([expect.objectContaining({ kind: "edited", budget: "datasets/customers" })]);
    expect(ks.verifyAudit().ok).toBe(true); // the chain itself is intact: only the ledger check sees it
  });

  it("a deleted spend", async () => {
    const { ks, db } = await spentTwice();
    sql(db, "DELETE FROM dp_spends WHERE rowid = 2");
    expect(verifyPrivacyLedger(ks).problems).toEqual([expect.objectContaining({ kind: "deleted" })]);
  });

  it("a replayed spend (a copy of a row under a new id) and an inserted one", async () => {
    const { ks, db } = await spentTwice();
    sql(db, "INSERT INTO dp_spends SELECT 'copy-' || id, budget, epsilon, rho, mechanism, query, input, principal, at FROM dp_spends WHERE rowid = 1");
    expect(verifyPrivacyLedger(ks).problems).toEqual([expect.objectContaining({ kind: "unrecorded" })]);
  });

  it("a raised budget limit, and a principal changed", async () => {
    const { ks, db } = await spentTwice();
    sql(db, "UPDATE dp_budgets SET epsilon = '100'");
    sql(db, "UPDATE dp_spends SET principal = 'someone-else' WHERE rowid = 2");
    expect(
      verifyPrivacyLedger(ks)
        .problems.map((p) => p.kind)
        .sort(),
    ).toEqual(["edited", "edited"]);
  });

  it("a deleted budget row with its spends", async () => {
    const { ks, db } = await spentTwice();
    sql(db, "DELETE FROM dp_spends");
    sql(db, "DELETE FROM dp_budgets");
    expect(verifyPrivacyLedger(ks).problems.map((p) => p.kind)).toEqual(["deleted", "deleted", "deleted"]);
  });
});
