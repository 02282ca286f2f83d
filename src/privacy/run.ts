/**
 * `runPrivateQuery`: one DP query over a file, end to end, in the order that keeps the
 * guarantees: plan (no data) → spend from the budget, recorded with its audit record (refused
 * before any data is read) → read the input (a sealed one decrypted in memory, audited) →
 * bound contributions, clamp, aggregate exactly → add the noise → release.
 *
 * @example
 * const result = await runPrivateQuery(ks, { kind: "count", where: [{ column: "country", value: "DE" }], epsilon: "0.5" },
 *   { budget: "datasets/customers", input: "customers.csv.pseal" });
 * console.log(result.value, result.ci95);
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import type { RecordFormat } from "../fields/formats/index.js";
import type { LocalKeystore } from "../keys/local-keystore.js";
import { collect } from "./collect.js";
import { PrivacyError } from "./errors.js";
import { inputFormat, readInput } from "./input.js";
import { PrivacyLedger, type SpendInfo } from "./ledger/ledger.js";
import { type DpQuery, describeQuery, planQuery } from "./query.js";
import { type DpRelease, release } from "./release.js";
import { type RandomSource, defaultRandomSource } from "./sampling/random.js";

export interface RunQueryOptions {
  /** The budget the query spends from. */
  readonly budget: string;
  /** A CSV, JSONL, JSON or Parquet file, plain or sealed (`.pseal`). */
  readonly input: string;
  readonly format?: RecordFormat;
  /** Default: node:crypto. Tests inject a seeded source. */
  readonly rng?: RandomSource;
}

export type QueryResult = DpRelease & { readonly budget: string; readonly spend: SpendInfo };

/**
 * @throws PrivacyError(PRIVACY_BUDGET_EXHAUSTED | PRIVACY_BUDGET_NOT_FOUND | INVALID_ARGUMENT);
 *   FieldError for malformed rows; KeyError, AuditError, DecryptError from a sealed input.
 */
export async function runPrivateQuery(ks: LocalKeystore, query: DpQuery, options: RunQueryOptions): Promise<QueryResult> {
  const ledger = new PrivacyLedger(ks);
  const limits = ledger.limits(options.budget);
  const plan = planQuery(query, limits.delta);
  inputFormat(options.input, options.format); // a bad format or a missing file costs no budget
  const abs = path.resolve(options.input);
  const info = await stat(abs).catch(() => null);
  if (info === null || !info.isFile()) throw new PrivacyError("INVALID_ARGUMENT", `no such file: ${options.input}`);
  const name = describeQuery(query);
  const spend = ledger.spend(options.budget, plan.cost, { mechanism: plan.mechanism, query: name, input: abs });
  // from here the budget is spent: a failure below keeps the spend (it may depend on the data)
  const rng = options.rng ?? defaultRandomSource();
  const exact = await collect(query, readInput(abs, { keyring: ks, ...(options.format ? { format: options.format } : {}) }), rng);
  return { ...release(plan, exact, rng, name), budget: options.budget, spend };
}
