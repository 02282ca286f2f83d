/**
 * Contribution bounding by privacy unit: each unit (a person, a customer id) keeps at most
 * `maxContributions` of its rows, chosen uniformly at random among its rows (reservoir
 * sampling with the crypto source, so which rows are kept does not depend on their order).
 * That is what makes the sensitivity true: removing a unit changes a count by at most k and a
 * clamped sum by at most k·max(|lo|, |hi|), however many rows it had. Without a privacy unit,
 * each row is its own unit and nothing needs holding (collect.ts streams it).
 */
import type { RandomSource } from "./sampling/random.js";

export class ContributionBounder<T> {
  readonly #k: number;
  readonly #rng: RandomSource;
  readonly #units = new Map<string, { seen: number; kept: T[] }>();

  constructor(options: { maxContributions: number; rng: RandomSource }) {
    this.#k = options.maxContributions;
    this.#rng = options.rng;
  }

  /** Offers one row's contribution for `unit`. */
  add(unit: string, item: T): void {
    let u = this.#units.get(unit);
    if (u === undefined) this.#units.set(unit, (u = { seen: 0, kept: [] }));
    u.seen++;
    if (u.kept.length < this.#k) u.kept.push(item);
    else {
      const j = Number(this.#rng.below(BigInt(u.seen))); // Algorithm R: keep the new row with probability k/seen
      if (j < this.#k) u.kept[j] = item;
    }
  }

  /** Every kept contribution. */
  *kept(): Generator<T> {
    for (const u of this.#units.values()) yield* u.kept;
  }

  /** The number of kept contributions (Σ min(rows of unit, k)). */
  get size(): number {
    let n = 0;
    for (const u of this.#units.values()) n += u.kept.length;
    return n;
  }
}

/** For counts: per unit only how many rows it had, so memory is one number per unit. */
export class BoundedCounter {
  readonly #k: number;
  readonly #perUnit: boolean;
  readonly #units = new Map<string, number>();
  #rows = 0;

  constructor(options: { maxContributions: number; perUnit: boolean }) {
    this.#k = options.maxContributions;
    this.#perUnit = options.perUnit;
  }

  add(unit: string): void {
    if (!this.#perUnit) this.#rows++;
    else this.#units.set(unit, (this.#units.get(unit) ?? 0) + 1);
  }

  get count(): number {
    if (!this.#perUnit) return this.#rows;
    let n = 0;
    for (const c of this.#units.values()) n += Math.min(c, this.#k);
    return n;
  }
}
