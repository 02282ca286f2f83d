/**
 * Who masks with whom. Full graph (Bonawitz et al. CCS 2017 §4): every pair. SecAgg+ (Bell
 * et al. CCS 2020 §3–4, as Flower implements it): a Harary-style ring of degree k over a
 * random permutation of the parties — each party masks with the k/2 parties on either side
 * of it and shares its secrets with those k and itself — so a party's work is O(k) instead of
 * O(n), and k = O(log n) suffices for the guarantees stated in docs/secagg.md.
 *
 * The permutation is derived from the roster digest (a hash over every signed
 * advertisement), so every party computes the same graph itself and the aggregator cannot
 * pick the neighbours of a party; it could only re-grind by dropping advertisements, which
 * costs it those parties.
 */
import { createHash } from "node:crypto";
import type { RoundConfig } from "./config.js";
import { prg } from "./prg.js";

export interface Graph {
  /** neighbours[i]: roster indices party i masks with (excludes i), ascending. */
  readonly neighbours: readonly (readonly number[])[];
  /** holders[i]: indices that receive shares of party i's secrets (its neighbours and i itself), ascending. */
  readonly holders: readonly (readonly number[])[];
}

/** A uniform permutation of 0..n−1 from a 32-byte seed (Fisher–Yates over AES-CTR words; the modulo bias is below n/2^32). */
function permutation(n: number, seed: Uint8Array): number[] {
  const words = prg(createHash("sha256").update("pipeseal/secagg/v1 graph\0").update(seed).digest(), Math.max(n, 1));
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = words[i] % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export function buildGraph(config: RoundConfig, n: number, rosterDigest: Uint8Array): Graph {
  const all = Array.from({ length: n }, (_, i) => i);
  if (config.graph === "full" || config.neighbours >= n - 1) {
    return { neighbours: all.map((i) => all.filter((j) => j !== i)), holders: all.map(() => all) };
  }
  const order = permutation(n, rosterDigest); // order[pos] = party index
  const pos = new Array<number>(n);
  order.forEach((party, p) => (pos[party] = p));
  const half = config.neighbours / 2;
  const neighbours = all.map((i) => {
    const set = new Set<number>();
    for (let d = 1; d <= half; d++) {
      set.add(order[(pos[i] + d) % n]);
      set.add(order[(pos[i] - d + n) % n]);
    }
    set.delete(i);
    return [...set].sort((a, b) => a - b);
  });
  return { neighbours, holders: neighbours.map((nb, i) => [...nb, i].sort((a, b) => a - b)) };
}
