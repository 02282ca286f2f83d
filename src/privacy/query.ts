/**
 * A DP query as data, and its plan: the mechanism, what it costs, and how the cost is shared
 * between its releases. Planning reads no data, so a query is checked (and its budget spent)
 * before the input is opened.
 */
import { type Cost, rhoFromEpsilonDelta } from "./accounting.js";
import { PrivacyError } from "./errors.js";
import type { MechanismName } from "./noise.js";
import { type Rational, exactRational, parseDecimal, toNumber } from "./sampling/rational.js";
import type { Filter } from "./values.js";

export type QueryKind = "count" | "sum" | "mean" | "histogram" | "quantile";

export interface DpQuery {
  readonly kind: QueryKind;
  /** The numeric column (every kind but count). */
  readonly column?: string;
  /** [lo, hi] for sum, mean and quantile: values are clamped into it. */
  readonly bounds?: readonly [number, number];
  /** Bin edges for histogram, strictly increasing: [b0, b1) … [b(n-1), bn]. */
  readonly bins?: readonly number[];
  /** Quantiles in [0, 1] for quantile. */
  readonly quantiles?: readonly number[];
  readonly where?: readonly Filter[];
  /** The column naming whose row it is (a person); default: each row is its own unit. */
  readonly privacyUnit?: string;
  /** At most this many rows per privacy unit (default 1). */
  readonly maxContributions?: number;
  readonly mechanism?: MechanismName;
  /** Laplace: ε (pure). Gaussian: with delta, converted to ρ. A string is an exact decimal ("0.1" is 1/10). */
  readonly epsilon?: number | string;
  readonly delta?: number;
  /** Gaussian: ρ (zCDP) directly. */
  readonly rho?: number | string;
}

export interface QueryPlan {
  readonly query: DpQuery;
  readonly mechanism: MechanismName;
  readonly cost: Cost;
  /** ε or ρ of each release (mean has two: count and sum, each half). */
  readonly share: Rational;
  readonly maxContributions: number;
  /** The δ a Gaussian ε was converted at, for the report. */
  readonly delta?: number;
}

const bad = (message: string) => new PrivacyError("INVALID_ARGUMENT", message);

function amount(x: number | string | undefined, what: string): Rational | undefined {
  if (x === undefined) return undefined;
  const r = typeof x === "string" ? parseDecimal(x) : Number.isFinite(x) && x > 0 ? exactRational(x) : null;
  if (r === null || r.num === 0n) throw bad(`${what} must be a number > 0`);
  if (toNumber(r) > 1e6) throw bad(`${what} is implausibly large (> 1e6)`);
  return r;
}

/**
 * Checks a query's arguments and works out its cost. `budgetDelta` is the δ of the budget the
 * query spends from (a Gaussian query given ε without its own δ is converted at it).
 * @throws PrivacyError(INVALID_ARGUMENT) for bad bounds, bins, quantiles, contributions or mechanism parameters
 */
export function planQuery(query: DpQuery, budgetDelta = 0): QueryPlan {
  const kind = query.kind;
  if (!["count", "sum", "mean", "histogram", "quantile"].includes(kind)) throw bad(`unknown query ${String(kind)}`);
  if (kind !== "count" && !query.column) throw bad(`${kind} needs a column`);
  if (kind === "sum" || kind === "mean" || kind === "quantile") checkBounds(kind, query.bounds);
  if (kind === "histogram") checkBins(query.bins);
  if (kind === "quantile") {
    const qs = query.quantiles ?? [];
    if (qs.length === 0 || qs.length > 100 || qs.some((q) => !(Number.isFinite(q) && q >= 0 && q <= 1)))
      throw bad("quantiles must be 1 to 100 numbers in [0, 1]");
  }
  const k = query.maxContributions ?? 1;
  if (!Number.isSafeInteger(k) || k < 1 || k > 1_000_000) throw bad("max-contributions must be an integer from 1 to 1000000");
  if (k > 1 && !query.privacyUnit) throw bad("max-contributions needs a privacy unit (the column that names whose row it is)");
  for (const f of query.where ?? []) if (!f.column) throw bad("a filter is column=value");
  const mechanism = query.mechanism ?? "laplace";
  const epsilon = amount(query.epsilon, "epsilon");
  const rho = amount(query.rho, "rho");
  const halve = (r: Rational): Rational => (kind === "mean" ? { num: r.num, den: r.den * 2n } : r);
  if (mechanism === "laplace") {
    if (rho !== undefined || query.delta !== undefined) throw bad("the Laplace mechanism takes --epsilon only (delta and rho are for --mechanism gaussian)");
    if (epsilon === undefined) throw bad("give --epsilon");
    return { query, mechanism, cost: { epsilon }, share: halve(epsilon), maxContributions: k };
  }
  if (mechanism !== "gaussian") throw bad(`unknown mechanism ${String(mechanism)} (laplace or gaussian)`);
  if (rho !== undefined) {
    if (epsilon !== undefined || query.delta !== undefined) throw bad("give either --rho or --epsilon (with --delta), not both");
    return { query, mechanism, cost: { rho }, share: halve(rho), maxContributions: k };
  }
  if (epsilon === undefined) throw bad("the Gaussian mechanism needs --rho, or --epsilon with --delta");
  const delta = query.delta ?? budgetDelta;
  if (!(delta > 0 && delta < 1)) throw bad("the Gaussian mechanism needs --delta in (0, 1), a budget with a delta, or --rho");
  const r = exactRational(rhoFromEpsilonDelta(toNumber(epsilon), delta));
  return { query, mechanism, cost: { rho: r }, share: halve(r), maxContributions: k, delta };
}

/**
 * Why bounds are required, said where they are missing: they are a public input of the
 * mechanism. A sum's or mean's noise is scaled to them (they cap one unit's contribution);
 * a quantile is searched for in the tree over [lo, hi]. Taking them from the data (its own
 * minimum and maximum) would release those values without noise.
 */
const CLAMPED = "values are clamped into them and the noise is scaled to them";
const WHY_BOUNDS: Record<"sum" | "mean" | "quantile", [string, string]> = {
  sum: ["a DP sum needs", CLAMPED],
  mean: ["a DP mean needs", CLAMPED],
  quantile: ["DP quantiles need", "the quantiles are searched for within them"],
};

function checkBounds(kind: "sum" | "mean" | "quantile", bounds: readonly [number, number] | undefined): void {
  if (!bounds || bounds.length !== 2) {
    const [what, why] = WHY_BOUNDS[kind];
    throw bad(`${what} public --bounds lo:hi, chosen without looking at the data: ${why} (the data's own min and max are not private)`);
  }
  const [lo, hi] = bounds;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) throw bad("bounds must be finite numbers with lo < hi");
  if (Math.max(Math.abs(lo), Math.abs(hi)) > 2 ** 900) throw bad("bounds are too large");
}

function checkBins(bins: readonly number[] | undefined): void {
  if (!bins || bins.length < 2 || bins.length > 10_001) throw bad("give --bins as 2 to 10001 increasing edges, e.g. 0,18,30,45,65,120");
  for (let i = 0; i < bins.length; i++) {
    if (!Number.isFinite(bins[i])) throw bad("bin edges must be finite numbers");
    if (i > 0 && !(bins[i] > bins[i - 1])) throw bad("bin edges must be strictly increasing");
  }
}

/** "count where country=DE", "sum of spend in [0, 500]": how a query is named in the ledger and audit. */
export function describeQuery(q: DpQuery): string {
  const where = q.where?.length ? ` where ${q.where.map((f) => `${f.column}=${f.value}`).join(",")}` : "";
  const unit = q.privacyUnit ? ` per ${q.privacyUnit} max ${q.maxContributions ?? 1}` : "";
  const what =
    q.kind === "count"
      ? "count"
      : q.kind === "histogram"
        ? `histogram of ${q.column} bins ${q.bins?.join(",")}`
        : q.kind === "quantile"
          ? `quantile ${q.quantiles?.join(",")} of ${q.column} in ${q.bounds?.join(":")}`
          : `${q.kind} of ${q.column} in ${q.bounds?.join(":")}`;
  return printableAscii(`${what}${where}${unit}`, 200);
}

/** Printable ASCII only, so a ledger row or audit record cannot hold control characters. */
export function printableAscii(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}
