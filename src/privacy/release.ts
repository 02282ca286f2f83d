/**
 * Adds the noise to an exact aggregate and reports the release: the value, the mechanism and
 * its parameters, the noise scale, and a 95% confidence interval computed from the noise
 * distribution (never from the data). Everything here is post-processing of noisy integers.
 */
import type { ExactAggregate } from "./collect.js";
import { fromUnits } from "./grid.js";
import { type MechanismName, type Noise, gaussianNoise, laplaceNoise, normalQuantile } from "./noise.js";
import { BRANCHING, HEIGHT, NoisyQuantileTree } from "./quantile-tree.js";
import type { QueryPlan } from "./query.js";
import { toNumber } from "./sampling/rational.js";
import type { RandomSource } from "./sampling/random.js";

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

export interface DpRelease {
  readonly query: string;
  readonly mechanism: MechanismName;
  /** What the query spent: ε (Laplace) or ρ (Gaussian, zCDP), and the δ an ε was converted at. */
  readonly epsilon?: number;
  readonly rho?: number;
  readonly delta?: number;
  readonly privacyUnit: string | null;
  readonly maxContributions: number;
  /** Per release (mean: count and sum): ℓ1 (Laplace) or ℓ2 (Gaussian) sensitivity in value units, and the noise scale (Laplace b, Gaussian σ) in value units. */
  readonly parts: readonly { readonly name: string; readonly sensitivity: number; readonly noiseScale: number; readonly granularity: number }[];
  /** count, sum, mean. */
  readonly value?: number;
  readonly ci95?: Interval;
  readonly bins?: readonly { readonly lo: number; readonly hi: number; readonly count: number; readonly ci95: Interval }[];
  readonly quantiles?: readonly { readonly q: number; readonly value: number; readonly ci95: Interval }[];
}

/** The noise of one release of ℓ1/ℓ2 sensitivity Δ (units) at the plan's share of the budget. */
function noiseFor(plan: QueryPlan, sensitivity: bigint, sensitivitySquared = sensitivity * sensitivity): Noise {
  return plan.mechanism === "laplace" ? laplaceNoise(sensitivity, plan.share) : gaussianNoise(sensitivitySquared, plan.share);
}

function interval(center: bigint, m: number, g: number): Interval {
  const w = BigInt(m);
  return { lo: fromUnits(center - w, g), hi: fromUnits(center + w, g) };
}

/** Releases `exact` under `plan`, drawing noise from `rng`. */
export function release(plan: QueryPlan, exact: ExactAggregate, rng: RandomSource, name: string): DpRelease {
  const q = plan.query;
  const k = BigInt(plan.maxContributions);
  const base = {
    query: name,
    mechanism: plan.mechanism,
    ...(plan.cost.epsilon !== undefined ? { epsilon: toNumber(plan.cost.epsilon) } : { rho: toNumber(plan.cost.rho) }),
    ...(plan.delta !== undefined ? { delta: plan.delta } : {}),
    privacyUnit: q.privacyUnit ?? null,
    maxContributions: plan.maxContributions,
  };
  const part = (n: string, noise: Noise, sens: number, g: number) => ({ name: n, sensitivity: sens * g, noiseScale: noise.scale * g, granularity: g });

  switch (exact.kind) {
    case "count": {
      const noise = noiseFor(plan, k);
      const noisy = exact.count + noise.sample(rng);
      return { ...base, parts: [part("count", noise, Number(k), 1)], value: Number(noisy), ci95: interval(noisy, noise.halfWidth(), 1) };
    }
    case "sum": {
      const sens = k * exact.maxUnits;
      const noise = noiseFor(plan, sens);
      const noisy = exact.units + noise.sample(rng);
      return {
        ...base,
        parts: [part("sum", noise, Number(sens), exact.g)],
        value: fromUnits(noisy, exact.g),
        ci95: interval(noisy, noise.halfWidth(), exact.g),
      };
    }
    case "histogram": {
      const noise = noiseFor(plan, k);
      const m = noise.halfWidth();
      const edges = q.bins as readonly number[];
      const bins = exact.counts.map((c, i) => {
        const noisy = c + noise.sample(rng);
        return { lo: edges[i], hi: edges[i + 1], count: Number(noisy), ci95: interval(noisy, m, 1) };
      });
      return { ...base, parts: [part("bin count", noise, Number(k), 1)], bins };
    }
    case "mean":
      return releaseMean(plan, exact, rng, { ...base, part });
    case "quantile": {
      const [lo, hi] = q.bounds as readonly [number, number];
      // ℓ1: one node per level per contribution; ℓ2: sqrt(height)·k (given squared: an integer)
      const noise = plan.mechanism === "laplace" ? noiseFor(plan, BigInt(HEIGHT) * k) : noiseFor(plan, 0n, BigInt(HEIGHT) * k * k);
      const tree = new NoisyQuantileTree(exact.leaves, noise, rng);
      // rank error: a cumulative count sums at most (branching-1) noisy nodes per level; the
      // sum's 95% range from its variance (normal approximation to a sum of 60 independent noises)
      const perNode = plan.mechanism === "laplace" ? (2 * Math.exp(-1 / noise.scale)) / (1 - Math.exp(-1 / noise.scale)) ** 2 : noise.scale ** 2;
      const rankError = normalQuantile(0.975) * Math.sqrt((BRANCHING - 1) * HEIGHT * perNode);
      const total = Math.max(1, tree.total());
      const quantiles = (q.quantiles as readonly number[]).map((p) => {
        const value = tree.quantile(p, lo, hi);
        const dq = rankError / total;
        return { q: p, value, ci95: { lo: tree.quantile(Math.max(0, p - dq), lo, hi), hi: tree.quantile(Math.min(1, p + dq), lo, hi) } };
      });
      const sens = plan.mechanism === "laplace" ? HEIGHT * Number(k) : Math.sqrt(HEIGHT) * Number(k);
      return { ...base, parts: [part("tree node count", noise, sens, 1)], quantiles };
    }
  }
}

function releaseMean(
  plan: QueryPlan,
  exact: Extract<ExactAggregate, { kind: "mean" }>,
  rng: RandomSource,
  base: Omit<DpRelease, "parts"> & { part: (n: string, noise: Noise, sens: number, g: number) => DpRelease["parts"][number] },
): DpRelease {
  const { part, ...head } = base;
  const k = BigInt(plan.maxContributions);
  const [lo, hi] = plan.query.bounds as readonly [number, number];
  const countNoise = noiseFor(plan, k);
  const sumSens = k * exact.halfUnits;
  const sumNoise = noiseFor(plan, sumSens);
  const n = Number(exact.count + countNoise.sample(rng));
  const s = fromUnits(exact.centeredUnits + sumNoise.sample(rng), exact.g);
  const clampMean = (x: number) => Math.min(hi, Math.max(lo, x));
  const value = n > 0 ? clampMean(exact.mid + s / n) : exact.mid;
  // 95% jointly: each part's interval at 97.5% (union bound), then the extreme ratios over the box
  const nW = countNoise.halfWidth(0.025);
  const sW = sumNoise.halfWidth(0.025) * exact.g;
  const nLo = n - nW;
  let ci: Interval;
  if (nLo <= 0) ci = { lo, hi };
  else {
    const ratios = [s - sW, s + sW].flatMap((x) => [x / nLo, x / (n + nW)]);
    ci = { lo: clampMean(exact.mid + Math.min(...ratios)), hi: clampMean(exact.mid + Math.max(...ratios)) };
  }
  return {
    ...head,
    parts: [part("count", countNoise, Number(k), 1), part("centred sum", sumNoise, Number(sumSens), exact.g)],
    value,
    ci95: ci,
  };
}
