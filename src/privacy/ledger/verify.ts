/**
 * Checks the privacy ledger against the audit chain, for `audit verify`. The chain is MACed
 * under the root key; the ledger's tables are plain rows. Each row was written in the same
 * transaction as an `ok` audit record whose context repeats it, so:
 * - a spend row edited (a smaller ε), or inserted or replayed (a copy under a new id, or a
 *   second row with an old id) has no matching record: "edited" / "unrecorded" / "duplicated";
 * - a spend row deleted (to regain budget) leaves a record without its row: "deleted";
 * - a budget row whose limits differ from its latest `dp.budget-set` record: "edited".
 * Reads only; never throws on tampering. Run it after the chain itself verifies.
 */
import type { AuditRecord } from "../../audit/types.js";
import type { LocalKeystore } from "../../keys/local-keystore.js";
import type { BudgetRow, SpendRow } from "./schema.js";

export interface LedgerProblem {
  readonly budget: string;
  /** The spend entry id, or null for the budget row itself. */
  readonly entry: string | null;
  readonly kind: "edited" | "unrecorded" | "deleted" | "duplicated";
}

export interface LedgerVerifyResult {
  readonly ok: boolean;
  readonly budgets: number;
  readonly spends: number;
  readonly problems: readonly LedgerProblem[];
}

function parseContext(r: AuditRecord): Record<string, string> {
  try {
    return r.context === null ? {} : (JSON.parse(r.context) as Record<string, string>);
  } catch {
    return {};
  }
}

export function verifyPrivacyLedger(ks: LocalKeystore): LedgerVerifyResult {
  const tables = ks.readTables((db) => {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dp_spends'").get() !== undefined;
    if (!has) return null;
    return {
      budgets: db.prepare("SELECT * FROM dp_budgets").all() as BudgetRow[],
      spends: db.prepare("SELECT * FROM dp_spends").all() as SpendRow[],
    };
  });
  const records = ks.listAudit().filter((r) => r.outcome === "ok" && (r.operation === "dp.spend" || r.operation === "dp.budget-set"));
  if (tables === null && records.length === 0) return { ok: true, budgets: 0, spends: 0, problems: [] };
  const budgets = tables?.budgets ?? [];
  const spends = tables?.spends ?? [];
  const problems: LedgerProblem[] = [];

  const spendRecords = new Map<string, Record<string, string>>();
  const spendPrincipal = new Map<string, string>();
  const lastSet = new Map<string, Record<string, string>>();
  for (const r of records) {
    const c = parseContext(r);
    if (r.operation === "dp.spend" && c.entry) {
      spendRecords.set(c.entry, c);
      spendPrincipal.set(c.entry, r.principal);
    }
    if (r.operation === "dp.budget-set" && c.budget) lastSet.set(c.budget, c);
  }

  const seen = new Set<string>();
  for (const row of spends) {
    if (seen.has(row.id)) {
      problems.push({ budget: row.budget, entry: row.id, kind: "duplicated" });
      continue;
    }
    seen.add(row.id);
    const c = spendRecords.get(row.id);
    if (c === undefined) problems.push({ budget: row.budget, entry: row.id, kind: "unrecorded" });
    else if (
      c.budget !== row.budget ||
      c.mechanism !== row.mechanism ||
      c.query !== row.query ||
      c.input !== row.input ||
      (c.epsilon ?? null) !== row.epsilon ||
      (c.rho ?? null) !== row.rho ||
      spendPrincipal.get(row.id) !== row.principal
    ) {
      problems.push({ budget: row.budget, entry: row.id, kind: "edited" });
    }
  }
  for (const [id, c] of spendRecords) if (!seen.has(id)) problems.push({ budget: c.budget ?? "?", entry: id, kind: "deleted" });

  const budgetNames = new Set<string>();
  for (const b of budgets) {
    budgetNames.add(b.name);
    const c = lastSet.get(b.name);
    if (c === undefined) problems.push({ budget: b.name, entry: null, kind: "unrecorded" });
    else if ((c.epsilon ?? null) !== b.epsilon || (c.rho ?? null) !== b.rho || c.delta !== b.delta)
      problems.push({ budget: b.name, entry: null, kind: "edited" });
  }
  for (const name of lastSet.keys()) if (!budgetNames.has(name)) problems.push({ budget: name, entry: null, kind: "deleted" });
  return { ok: problems.length === 0, budgets: budgets.length, spends: spends.length, problems };
}
