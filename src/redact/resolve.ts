/** Overlap resolution: when findings overlap, the longest wins; equal length, the most confident. */
import type { Finding } from "./types.js";

/** Non-overlapping findings in order of `start`. */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  if (findings.length <= 1) return [...findings];
  const ranked = [...findings].sort((a, b) => b.end - b.start - (a.end - a.start) || b.confidence - a.confidence || a.start - b.start);
  if (ranked.length > 64) return resolveMany(ranked);
  const kept: Finding[] = []; // sorted by start, pairwise disjoint
  for (const f of ranked) {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (kept[mid]!.start < f.start) lo = mid + 1;
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
