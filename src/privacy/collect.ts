/**
 * One pass over the records: filters, contribution bounding by privacy unit, clamping, and the
 * exact (unnoised) aggregate in integer units. Nothing here is released: release.ts adds the
 * noise. Row errors name the row and column, never a value.
 */
import { BoundedCounter, ContributionBounder } from "./bounding.js";
import { PrivacyError } from "./errors.js";
import { ExactSum, granularityFor, toUnits } from "./grid.js";
import type { DpQuery } from "./query.js";
import { QUANTILE_LEAVES, leafOf } from "./quantile-tree.js";
import type { RandomSource } from "./sampling/random.js";
import { type Rec, cellText, clamp, matches, numericValue } from "./values.js";

/** The unnoised result: counts and sums in grid units (g: the grid step, 1 for counts). */
export type ExactAggregate =
  | { readonly kind: "count"; readonly count: bigint }
  | { readonly kind: "sum"; readonly units: bigint; readonly g: number; readonly maxUnits: bigint }
  | { readonly kind: "mean"; readonly count: bigint; readonly centeredUnits: bigint; readonly g: number; readonly halfUnits: bigint; readonly mid: number }
  | { readonly kind: "histogram"; readonly counts: readonly bigint[] }
  | { readonly kind: "quantile"; readonly leaves: Float64Array };

/** Where rows come from: records with their 1-based row numbers. */
export type Rows = AsyncIterable<{ row: number; record: Rec }>;

/**
 * Computes the exact aggregate of `query` over `rows`, each privacy unit bounded to its
 * maxContributions rows (chosen at random with `rng`).
 * @throws PrivacyError(INVALID_ARGUMENT) for an unknown column (never seen in any row) or a non-numeric value
 */
export async function collect(query: DpQuery, rows: Rows, rng: RandomSource): Promise<ExactAggregate> {
  const k = query.maxContributions ?? 1;
  const unitCol = query.privacyUnit;
  const perUnit = unitCol !== undefined;
  const where = query.where ?? [];
  const needed = [...where.map((f) => f.column), ...(unitCol ? [unitCol] : []), ...(query.column ? [query.column] : [])];
  const seen = new Set<string>();
  const notice = (rec: Rec) => {
    if (seen.size === needed.length) return;
    for (const c of needed) if (Object.hasOwn(rec, c)) seen.add(c);
  };
  // a missing unit is one shared unit, bounded like any other; without per-unit bounding the key is unused
  const unitOf = (rec: Rec): string => (perUnit ? (cellText(rec[unitCol]) ?? "") : "");

  if (query.kind === "count") {
    const counter = new BoundedCounter({ maxContributions: k, perUnit });
    for await (const { record } of rows) {
      notice(record);
      if (matches(record, where)) counter.add(unitOf(record));
    }
    requireSeen(needed, seen);
    return { kind: "count", count: BigInt(counter.count) };
  }

  const column = query.column as string;
  const acc = accumulator(query);
  // per-unit bounding holds values until the end (a unit's kept rows are only known then);
  // without it every row is its own unit and goes straight into the aggregate
  const bounder = perUnit ? new ContributionBounder<number>({ maxContributions: k, rng }) : null;
  for await (const { row, record } of rows) {
    notice(record);
    if (!matches(record, where)) continue;
    const v = numericValue(record, column, row);
    if (v === undefined) continue;
    if (bounder === null) acc.add(v);
    else bounder.add(unitOf(record), v);
  }
  requireSeen(needed, seen);
  if (bounder !== null) for (const v of bounder.kept()) acc.add(v);
  return acc.result();
}

interface Accumulator {
  add(v: number): void;
  result(): ExactAggregate;
}

/** The exact aggregate of one valued query kind, one contribution at a time. */
function accumulator(query: DpQuery): Accumulator {
  if (query.kind === "histogram") {
    const bins = query.bins as readonly number[];
    const n = new Float64Array(bins.length - 1);
    return {
      add: (v) => {
        const i = binOf(bins, v);
        if (i >= 0) n[i]++;
      },
      result: () => ({ kind: "histogram", counts: Array.from(n, (c) => BigInt(c)) }),
    };
  }
  const [lo, hi] = query.bounds as readonly [number, number];
  if (query.kind === "quantile") {
    const leaves = new Float64Array(QUANTILE_LEAVES);
    return { add: (v) => void leaves[leafOf(clamp(v, lo, hi), lo, hi)]++, result: () => ({ kind: "quantile", leaves }) };
  }
  if (query.kind === "sum") {
    const g = granularityFor(Math.max(Math.abs(lo), Math.abs(hi)));
    const uLo = toUnits(lo, g);
    const uHi = toUnits(hi, g);
    const sum = new ExactSum();
    return {
      add: (v) => sum.add(clamp(toUnits(clamp(v, lo, hi), g), uLo, uHi)),
      result: () => ({ kind: "sum", units: sum.value, g, maxUnits: BigInt(Math.max(Math.abs(uLo), Math.abs(uHi), 1)) }),
    };
  }
  // mean: a noisy count and a noisy sum of values centred on the midpoint (sensitivity k·(hi-lo)/2, not k·max|bound|)
  const mid = lo / 2 + hi / 2;
  const half = hi / 2 - lo / 2;
  const g = granularityFor(half);
  const h = toUnits(half, g);
  const sum = new ExactSum();
  let count = 0;
  return {
    add: (v) => {
      sum.add(clamp(toUnits(clamp(v, lo, hi) - mid, g), -h, h));
      count++;
    },
    result: () => ({ kind: "mean", count: BigInt(count), centeredUnits: sum.value, g, halfUnits: BigInt(Math.max(h, 1)), mid }),
  };
}

/** The bin of v: [b(i), b(i+1)) with the last bin closed; -1 outside every bin. */
export function binOf(bins: readonly number[], v: number): number {
  const last = bins.length - 1;
  if (!(v >= bins[0]) || v > bins[last]) return -1;
  if (v === bins[last]) return last - 1;
  let a = 0;
  let b = last;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (v >= bins[m]) a = m;
    else b = m;
  }
  return a;
}

function requireSeen(needed: readonly string[], seen: ReadonlySet<string>): void {
  for (const c of needed) if (!seen.has(c)) throw new PrivacyError("INVALID_ARGUMENT", `unknown column ${JSON.stringify(c)}: no row has it`);
}
