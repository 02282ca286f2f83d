/** Overlap resolution: when findings overlap, the longest wins; equal length, the most confident. */
import type { Finding } from "./types.js";

/** Non-overlapping findings in order of `start`. */
export function resolveOverlaps(findings: readonly Finding[]): Finding[] {
  if (findings.length <= 1) return [...findings];
  const ranked = [...findings].sort((a, b) => b.end - b.start - (a.end - a.start) || b.confidence - a.confidence || a.start - b.start);
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
