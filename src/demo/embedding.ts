/**
 * A deterministic small text embedding for the demo's RAG corpus, so no model is downloaded:
 * feature hashing (the "hashing trick") of lower-cased word unigrams and bigrams into a
 * fixed number of dimensions, L2-normalised so cosine similarity ranks by shared words.
 */
import { createHash } from "node:crypto";

export const EMBEDDING_DIM = 64;

export function embed(text: string): number[] {
  const v = new Array<number>(EMBEDDING_DIM).fill(0);
  const words = text.toLowerCase().match(/[a-z]{2,}/g) ?? [];
  const grams = [...words, ...words.slice(1).map((w, i) => `${words[i]} ${w}`)];
  for (const g of grams) {
    const h = createHash("sha256").update(g).digest();
    // one bucket and one sign per gram (Weinberger et al. 2009, signed hashing)
    v[h.readUInt16BE(0) % EMBEDDING_DIM] += h[2] & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
