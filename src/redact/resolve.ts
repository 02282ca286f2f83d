/** Overlap resolution: when findings overlap, the longest wins; equal length, the most confident. */
import type { Finding } from "./types.js";

/**
 * Non-overlapping findings in order of `start`.
 *
 * Findings are ranked (longest, then most confident, then earliest, then first given) and kept
 * greedily unless they overlap one already kept. Only findings that overlap, directly or through
 * others, can affect each other, so the ranking runs per cluster of overlapping findings: most
 * clusters hold one finding, and a chunk of many lines costs a sort by start and a linear walk.
 */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  const n = findings.length;
  if (n <= 1) return [...findings];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => findings[a].start - findings[b].start || a - b);
  const out: Finding[] = [];
  let from = 0;
  let end = findings[order[0]].end;
  for (let k = 1; k <= n; k++) {
    const f = k < n ? findings[order[k]] : null;
    if (f !== null && f.start < end) {
      if (f.end > end) end = f.end;
      continue;
    }
    if (k - from === 1) out.push(findings[order[from]]);
    else {
      const cluster = order
        .slice(from, k)
        .sort((a, b) => rank(findings[a], findings[b]) || a - b)
        .map((i) => findings[i]);
      const kept = cluster.length > 64 ? resolveMany(cluster) : resolveFew(cluster);
      for (const x of kept) out.push(x);
    }
    if (f !== null) {
      from = k;
      end = f.end;
    }
  }
  return out;
}

const rank = (a: Finding, b: Finding): number => b.end - b.start - (a.end - a.start) || b.confidence - a.confidence || a.start - b.start;

/** The simple reference: one global ranking, greedy (kept as the definition; see resolve tests). */
export function resolveOverlapsReference(findings: readonly Finding[]): Finding[] {
  if (findings.length <= 1) return [...findings];
  const ranked = [...findings].sort(rank);
  return ranked.length > 64 ? resolveMany(ranked) : resolveFew(ranked);
}

/** Greedy over `ranked` with sorted inserts (few findings). */
function resolveFew(ranked: readonly Finding[]): Finding[] {
  const kept: Finding[] = []; // sorted by start, pairwise disjoint
  for (const f of ranked) {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (kept[mid].start < f.start) lo = mid + 1;
      else hi = mid;
    }
    const before = kept[lo - 1];
    const after = kept[lo];
    if (before && before.end > f.start) continue;
    if (after && after.start < f.end) continue;
    kept.splice(lo, 0, f);
  }
  return kept;
}

/** Same result for many findings: an occupancy map instead of sorted inserts (linear, not quadratic). */
function resolveMany(ranked: readonly Finding[]): Finding[] {
  let lo = Infinity;
  let hi = 0;
  for (const f of ranked) {
    if (f.start < lo) lo = f.start;
    if (f.end > hi) hi = f.end;
  }
  const used = new Uint8Array(hi - lo);
  const kept: Finding[] = [];
  for (const f of ranked) {
    let free = true;
    for (let i = f.start - lo; i < f.end - lo; i++) {
      if (used[i]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    used.fill(1, f.start - lo, f.end - lo);
    kept.push(f);
  }
  return kept.sort((a, b) => a.start - b.start);
}
