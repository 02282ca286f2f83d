/** Brute-force cosine ranking. The reference path; there is no index (docs/rag.md §Vectors). */

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>, aNorm = norm(a)): number {
  let dot = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const y = b[i];
    dot += a[i] * y;
    bb += y * y;
  }
  const d = aNorm * Math.sqrt(bb);
  return d === 0 ? 0 : dot / d;
}

/** Sorts by score, highest first; ties by insertion order (seq), so results are deterministic. */
export function rank<T extends { score: number; seq: number }>(items: T[]): T[] {
  return items.sort((x, y) => y.score - x.score || x.seq - y.seq);
}
