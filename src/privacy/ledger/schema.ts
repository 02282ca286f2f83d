/**
 * The privacy ledger's tables in keystore.db, migrated as the `privacy` capability
 * (keys/capability-schema.ts). Amounts are exact rationals as text ("1/10", "3"), so sums
 * and limits compare exactly. Every row is written in the same transaction as its audit
 * record (`dp.budget-set`, `dp.spend`), whose context repeats the row; `audit verify`
 * checks each against the other (ledger/verify.ts), so an edited, inserted or deleted row
 * is caught.
 */
export const PRIVACY_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE dp_budgets (
    name        TEXT    PRIMARY KEY,
    epsilon     TEXT,
    delta       TEXT    NOT NULL,
    rho         TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((epsilon IS NULL) <> (rho IS NULL))
  );
  CREATE TABLE dp_spends (
    id          TEXT    PRIMARY KEY,
    budget      TEXT    NOT NULL REFERENCES dp_budgets(name),
    epsilon     TEXT,
    rho         TEXT,
    mechanism   TEXT    NOT NULL CHECK (mechanism IN ('laplace', 'gaussian')),
    query       TEXT    NOT NULL,
    input       TEXT    NOT NULL,
    principal   TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    CHECK ((epsilon IS NULL) <> (rho IS NULL))
  );
  CREATE INDEX dp_spends_budget ON dp_spends (budget, at);
  `,
];

export interface BudgetRow {
  name: string;
  epsilon: string | null;
  delta: string;
  rho: string | null;
  created_at: number;
  updated_at: number;
}

export interface SpendRow {
  id: string;
  budget: string;
  epsilon: string | null;
  rho: string | null;
  mechanism: string;
  query: string;
  input: string;
  principal: string;
  at: number;
}
