/**
 * The privacy budget ledger in the keystore: named budgets (`datasets/customers`), each an
 * (ε, δ) or a ρ-zCDP total, and every spend of one.
 *
 * Security guarantees: a spend is checked against the budget and recorded, with its audit
 * record (`dp.spend`), in one IMMEDIATE transaction (the database's write lock), so two
 * processes spending at once are serialised and cannot overspend; a refusal
 * (PRIVACY_BUDGET_EXHAUSTED) is audited as `denied`. The spend commits before the caller reads
 * any data (runPrivateQuery), so a result is never released unrecorded, and a crash leaves
 * either the spend and its record or neither (SQLite, synchronous=FULL). A failed query keeps
 * its spend: its failure may depend on the data. Rows are checked against the audit chain by
 * `audit verify` (verify.ts). Not covered: someone who can write keystore.db can delete spends
 * to regain budget until the next `audit verify` catches it.
 *
 * @example
 * const ledger = new PrivacyLedger(ks);
 * ledger.setBudget("datasets/customers", { epsilon: "3", delta: 1e-6 });
 * const spend = ledger.spend("datasets/customers", plan.cost, { mechanism: "laplace", query: "count", input: "customers.csv" });
 */
import { randomUUID } from "node:crypto";
import { KeystoreError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/local-keystore.js";
import type { Db } from "../../keys/db.js";
import { type BudgetLimits, type Cost, type Spent, fits, spentOf } from "../accounting.js";
import { PrivacyError } from "../errors.js";
import { printableAscii } from "../query.js";
import { type Rational, parseDecimal, parseRationalText, rationalText, toNumber } from "../sampling/rational.js";
import { type BudgetRow, PRIVACY_MIGRATIONS, type SpendRow } from "./schema.js";

const BUDGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;

export interface BudgetSpec {
  /** (ε, δ) budget: total ε (a decimal string is exact). */
  readonly epsilon?: number | string;
  /** δ of an (ε, δ) budget; default 0 (pure ε). */
  readonly delta?: number;
  /** zCDP budget: total ρ. */
  readonly rho?: number | string;
}

export interface SpendInfo {
  readonly id: string;
  readonly epsilon?: number;
  readonly rho?: number;
  readonly mechanism: string;
  readonly query: string;
  readonly input: string;
  readonly principal: string;
  readonly time: string;
}

export interface BudgetInfo {
  readonly name: string;
  readonly kind: "approx-dp" | "zcdp";
  readonly epsilon?: number;
  readonly delta: number;
  readonly rho?: number;
  readonly spent: Spent;
  readonly spends: readonly SpendInfo[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function validateBudgetName(name: string): void {
  if (typeof name !== "string" || !BUDGET_NAME.test(name))
    throw new PrivacyError("INVALID_ARGUMENT", "a budget name is letters, digits and ._/- (up to 128), e.g. datasets/customers");
}

function limitAmount(x: number | string, what: string): Rational {
  const r = typeof x === "string" ? parseDecimal(x) : Number.isFinite(x) && x > 0 ? parseDecimal(String(x)) : null;
  if (r === null || r.num === 0n) throw new PrivacyError("INVALID_ARGUMENT", `${what} must be a number > 0`);
  return r;
}

export function limitsOf(row: BudgetRow): BudgetLimits {
  const eps = row.epsilon === null ? undefined : parseRationalText(row.epsilon);
  const rho = row.rho === null ? undefined : parseRationalText(row.rho);
  const delta = Number(row.delta);
  if (eps === null || rho === null || !(delta >= 0 && delta < 1)) throw new KeystoreError("KEYSTORE_CORRUPT", `the privacy budget ${row.name} is unreadable`);
  return { delta, ...(eps ? { epsilon: eps } : {}), ...(rho ? { rho } : {}) };
}

export function costOf(row: SpendRow): Cost {
  const r = parseRationalText((row.epsilon ?? row.rho) as string);
  if (r === null) throw new KeystoreError("KEYSTORE_CORRUPT", `the privacy ledger entry ${row.id} is unreadable`);
  return row.epsilon !== null ? { epsilon: r } : { rho: r };
}

export class PrivacyLedger {
  readonly #ks: LocalKeystore;
  readonly #now: () => number;

  /** Creates the ledger's tables on first use. @param options.now clock in epoch ms (tests). */
  constructor(ks: LocalKeystore, options: { now?: () => number } = {}) {
    ks.ensureTables("privacy", PRIVACY_MIGRATIONS);
    this.#ks = ks;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Creates or changes a budget (audited as `dp.budget-set`). A change may not set the
   * limit below what was already spent.
   * @throws PrivacyError(INVALID_ARGUMENT | PRIVACY_BUDGET_EXHAUSTED); AuditError(AUDIT_WRITE_FAILED)
   */
  setBudget(name: string, spec: BudgetSpec): BudgetInfo {
    validateBudgetName(name);
    if ((spec.epsilon === undefined) === (spec.rho === undefined))
      throw new PrivacyError("INVALID_ARGUMENT", "give a budget as --epsilon (with optional --delta) or as --rho (zCDP)");
    const delta = spec.delta ?? 0;
    if (!(Number.isFinite(delta) && delta >= 0 && delta < 1)) throw new PrivacyError("INVALID_ARGUMENT", "delta must be in [0, 1)");
    if (spec.rho !== undefined && spec.delta !== undefined)
      throw new PrivacyError("INVALID_ARGUMENT", "a zCDP budget (--rho) takes no --delta; the δ is chosen when it is reported as (ε, δ)");
    const eps = spec.epsilon === undefined ? null : rationalText(limitAmount(spec.epsilon, "epsilon"));
    const rho = spec.rho === undefined ? null : rationalText(limitAmount(spec.rho, "rho"));
    const context: Record<string, string> = { budget: name, delta: String(delta), ...(eps ? { epsilon: eps } : { rho: rho as string }) };
    this.#ks.auditedChange({ operation: "dp.budget-set", objectPath: `dp-budget:${name}`, context }, (db) => {
      const now = this.#now();
      const old = budgetRow(db, name);
      const row: BudgetRow = { name, epsilon: eps, delta: String(delta), rho, created_at: old?.created_at ?? now, updated_at: now };
      if (old) {
        const spent = spentOf(limitsOf(row), spendRows(db, name).map(costOf));
        if (spent.total > spent.limit)
          throw new PrivacyError("PRIVACY_BUDGET_EXHAUSTED", `${name} has already spent ${fmt(spent.total)}, more than the new limit ${fmt(spent.limit)}`);
        db.prepare("UPDATE dp_budgets SET epsilon = ?, delta = ?, rho = ?, updated_at = ? WHERE name = ?").run(eps, row.delta, rho, now, name);
      } else
        db.prepare("INSERT INTO dp_budgets (name, epsilon, delta, rho, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)").run(
          name,
          eps,
          row.delta,
          rho,
          now,
          now,
        );
    });
    return this.show(name);
  }

  /** The budget, what was spent and left, and every spend. @throws PrivacyError(PRIVACY_BUDGET_NOT_FOUND) */
  show(name: string): BudgetInfo {
    validateBudgetName(name);
    return this.#ks.readTables((db) => budgetInfo(db, requireBudget(db, name)));
  }

  list(): BudgetInfo[] {
    return this.#ks.readTables((db) => (db.prepare("SELECT * FROM dp_budgets ORDER BY name").all() as BudgetRow[]).map((r) => budgetInfo(db, r)));
  }

  /** The budget's limits, for planning a query. @throws PrivacyError(PRIVACY_BUDGET_NOT_FOUND) */
  limits(name: string): BudgetLimits {
    validateBudgetName(name);
    return this.#ks.readTables((db) => limitsOf(requireBudget(db, name)));
  }

  /**
   * Spends `cost` from budget `name`: checked and recorded with its `dp.spend` audit record in
   * one transaction, or refused (audited as denied) if it does not fit.
   * @throws PrivacyError(PRIVACY_BUDGET_EXHAUSTED | PRIVACY_BUDGET_NOT_FOUND | INVALID_ARGUMENT);
   *   AuditError(AUDIT_WRITE_FAILED); KeystoreError(KEYSTORE_BUSY)
   */
  spend(name: string, cost: Cost, what: { mechanism: "laplace" | "gaussian"; query: string; input: string }): SpendInfo {
    validateBudgetName(name);
    const id = randomUUID();
    const query = printableAscii(what.query, 200);
    const input = printableAscii(what.input, 300);
    const amount = rationalText(cost.epsilon ?? cost.rho);
    const context: Record<string, string> = {
      budget: name,
      entry: id,
      mechanism: what.mechanism,
      query,
      input,
      ...(cost.epsilon !== undefined ? { epsilon: amount } : { rho: amount }),
    };
    return this.#ks.auditedChange({ operation: "dp.spend", objectPath: `dp-budget:${name}`, context }, (db) => {
      const row = requireBudget(db, name);
      const limits = limitsOf(row);
      if (cost.rho !== undefined && limits.rho === undefined && !(limits.delta > 0)) {
        throw new PrivacyError("INVALID_ARGUMENT", `${name} is a pure ε budget (δ = 0): a Gaussian query needs a budget with --delta or --rho`);
      }
      const spends = spendRows(db, name).map(costOf);
      if (!fits(limits, spends, cost)) {
        const s = spentOf(limits, spends);
        const unit = limits.rho !== undefined ? "ρ" : "ε";
        throw new PrivacyError(
          "PRIVACY_BUDGET_EXHAUSTED",
          `the privacy budget ${name} has ${fmt(s.left)} ${unit} left of ${fmt(s.limit)}; this query needs more (nothing was read)`,
        );
      }
      const at = this.#now();
      const spendRow: SpendRow = {
        id,
        budget: name,
        epsilon: cost.epsilon !== undefined ? amount : null,
        rho: cost.rho !== undefined ? amount : null,
        mechanism: what.mechanism,
        query,
        input,
        principal: this.#ks.principal,
        at,
      };
      db.prepare(
        "INSERT INTO dp_spends (id, budget, epsilon, rho, mechanism, query, input, principal, at) VALUES (@id, @budget, @epsilon, @rho, @mechanism, @query, @input, @principal, @at)",
      ).run(spendRow);
      return spendInfo(spendRow);
    });
  }
}

const fmt = (x: number) => String(Number(x.toPrecision(6)));

function budgetRow(db: Db, name: string): BudgetRow | undefined {
  return db.prepare("SELECT * FROM dp_budgets WHERE name = ?").get(name) as BudgetRow | undefined;
}

function requireBudget(db: Db, name: string): BudgetRow {
  const row = budgetRow(db, name);
  if (row === undefined)
    throw new PrivacyError("PRIVACY_BUDGET_NOT_FOUND", `no privacy budget ${name}; create it with \`pipeseal dp budget set ${name} --epsilon E [--delta D]\``);
  return row;
}

function spendRows(db: Db, name: string): SpendRow[] {
  return db.prepare("SELECT * FROM dp_spends WHERE budget = ? ORDER BY at, rowid").all(name) as SpendRow[];
}

function spendInfo(r: SpendRow): SpendInfo {
  const c = costOf(r);
  return {
    id: r.id,
    ...(c.epsilon !== undefined ? { epsilon: toNumber(c.epsilon) } : { rho: toNumber(c.rho) }),
    mechanism: r.mechanism,
    query: r.query,
    input: r.input,
    principal: r.principal,
    time: new Date(r.at).toISOString(),
  };
}

function budgetInfo(db: Db, row: BudgetRow): BudgetInfo {
  const limits = limitsOf(row);
  const rows = spendRows(db, row.name);
  return {
    name: row.name,
    kind: limits.rho !== undefined ? "zcdp" : "approx-dp",
    ...(limits.epsilon ? { epsilon: toNumber(limits.epsilon) } : {}),
    delta: limits.delta,
    ...(limits.rho ? { rho: toNumber(limits.rho) } : {}),
    spent: spentOf(limits, rows.map(costOf)),
    spends: rows.map(spendInfo),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
