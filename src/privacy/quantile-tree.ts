/**
 * DP quantiles with a quantile tree (as Google's differential-privacy library does): the
 * bounded range is split into 16^4 = 65,536 leaves under a tree of branching 16 and height 4;
 * every node's count gets independent noise (a value touches one node per level, so the ℓ1
 * sensitivity is 4k and the ℓ2 sensitivity 2k); a quantile walks down from the root choosing the
 * child whose noisy cumulative count holds the wanted rank, then interpolates inside the leaf.
 * Any number of quantiles come from one tree, for one cost. Noise is drawn for the nodes a walk
 * looks at, once each (the same as noising every node, as unseen nodes do not affect the output).
 */
import type { Noise } from "./noise.js";
import type { RandomSource } from "./sampling/random.js";

export const BRANCHING = 16;
export const HEIGHT = 4;
export const QUANTILE_LEAVES = BRANCHING ** HEIGHT;

/** The leaf of v in [lo, hi]. */
export function leafOf(v: number, lo: number, hi: number): number {
  const i = Math.floor(((v - lo) / (hi - lo)) * QUANTILE_LEAVES);
  return i < 0 ? 0 : i >= QUANTILE_LEAVES ? QUANTILE_LEAVES - 1 : i;
}

export interface TreeQuantile {
  readonly q: number;
  readonly value: number;
}

/** A noisy tree over exact leaf counts; `noise` is per node, in count units. */
export class NoisyQuantileTree {
  readonly #levels: Float64Array[];
  readonly #noisy = new Map<number, number>();
  readonly #noise: Noise;
  readonly #rng: RandomSource;

  constructor(leaves: Float64Array, noise: Noise, rng: RandomSource) {
    // levels[l] holds 16^l exact counts (l = 1 … HEIGHT), built up from the leaves
    const levels = new Array<Float64Array>(HEIGHT + 1);
    levels[HEIGHT] = leaves;
    for (let l = HEIGHT - 1; l >= 1; l--) {
      const below = levels[l + 1];
      const here = new Float64Array(BRANCHING ** l);
      for (let i = 0; i < below.length; i++) here[Math.floor(i / BRANCHING)] += below[i];
      levels[l] = here;
    }
    this.#levels = levels;
    this.#noise = noise;
    this.#rng = rng;
  }

  /** A node's noisy count, clamped at 0 (post-processing). */
  #count(level: number, index: number): number {
    const id = BRANCHING ** level + index; // unique per node across levels
    let c = this.#noisy.get(id);
    if (c === undefined) {
      c = Math.max(0, this.#levels[level][index] + Number(this.#noise.sample(this.#rng)));
      this.#noisy.set(id, c);
    }
    return c;
  }

  /** The noisy number of contributions: the sum of the first level's noisy counts. */
  total(): number {
    let t = 0;
    for (let j = 0; j < BRANCHING; j++) t += this.#count(1, j);
    return t;
  }

  /** The q-quantile of [lo, hi] from the noisy counts. */
  quantile(q: number, lo: number, hi: number): number {
    let index = 0;
    let rank = q; // the wanted rank as a fraction of the current node's noisy total
    for (let level = 1; level <= HEIGHT; level++) {
      const first = index * BRANCHING;
      const counts = Array.from({ length: BRANCHING }, (_, j) => this.#count(level, first + j));
      const total = counts.reduce((a, b) => a + b, 0);
      if (total <= 0) {
        // no signal below: the middle of this node's range
        const width = (hi - lo) / BRANCHING ** (level - 1);
        return Math.min(hi, Math.max(lo, lo + index * width + width / 2));
      }
      const target = rank * total;
      let cum = 0;
      let j = 0;
      while (j < BRANCHING - 1 && cum + counts[j] < target) cum += counts[j++];
      rank = counts[j] > 0 ? Math.min(1, Math.max(0, (target - cum) / counts[j])) : 0.5;
      index = first + j;
    }
    const width = (hi - lo) / QUANTILE_LEAVES;
    return Math.min(hi, Math.max(lo, lo + (index + rank) * width));
  }
}
