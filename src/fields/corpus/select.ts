/**
 * Choosing what a retrieval returns: candidate rows by blind index, ranked by cosine
 * similarity when there is a query vector, and only the chosen rows decrypted. Internal.
 */
import { UsageError } from "../../errors.js";
import { type CorpusKeys, openField, storedVector } from "./crypto.js";
import type { CorpusState } from "./state.js";
import type { ChunkRow } from "./store.js";
import type { RetrieveResult, RetrievedChunk } from "./types.js";
import { cosine, norm, rank } from "./vector.js";

export type Candidate = Pick<ChunkRow, "seq" | "id_ref" | "subject_key_id" | "subject_version" | "vector">;

/** Candidate rows after the blind-index filters, in insertion order; at most maxScan. */
export function findCandidates(s: CorpusState, filter: (readonly [string, Buffer])[]): Candidate[] {
  const where = filter.map(() => "AND seq IN (SELECT chunk FROM chunk_tags WHERE field = ? AND tag = ?)").join(" ");
  const stmt = s.db.prepare(`SELECT seq, id_ref, subject_key_id, subject_version, vector FROM chunks WHERE corpus = ? ${where} ORDER BY seq LIMIT ?`);
  const rows = stmt.all(s.row.name, ...filter.flat(), s.maxScan + 1) as Candidate[];
  if (rows.length > s.maxScan) {
    throw new UsageError(
      "LIMIT_EXCEEDED",
      `more than ${s.maxScan} chunks match; narrow the query with a filter (brute-force search does not scale past maxScan)`,
    );
  }
  return rows;
}

/** Ranks the candidates (skipping erased subjects' chunks, counted) and decrypts the top k. */
export function selectChunks(
  s: CorpusState,
  keys: CorpusKeys,
  rows: Candidate[],
  subjectKeysById: Map<string, Buffer | null>,
  q: number[] | undefined,
  k: number,
): RetrieveResult {
  const name = s.row.name;
  const keyOf = (r: Candidate): Buffer | null =>
    r.subject_key_id === null ? keys.dataKey : (subjectKeysById.get(`${r.subject_key_id}#${r.subject_version}`) ?? null);
  let erased = 0;
  const live: { row: Candidate; key: Buffer; score: number; seq: number }[] = [];
  const qNorm = q === undefined ? 0 : norm(q);
  const need = s.db.prepare<[number], ChunkRow>("SELECT * FROM chunks WHERE seq = ?");
  for (const row of rows) {
    const key = keyOf(row);
    if (key === null) {
      erased++;
      continue;
    }
    let score = 0;
    if (q !== undefined) {
      if (row.vector === null) continue; // a chunk without a vector cannot rank
      const bytes = s.row.vectors === "plain" ? row.vector : openField(key, name, row.id_ref.toString("hex"), "vector", row.vector);
      score = cosine(q, storedVector(bytes), qNorm);
      if (bytes !== row.vector) bytes.fill(0);
    }
    live.push({ row, key, score, seq: row.seq });
  }
  const chosen = (q === undefined ? live : rank(live)).slice(0, k);
  const chunks: RetrievedChunk[] = chosen.map(({ row, key, score }) => {
    const full = need.get(row.seq) as ChunkRow;
    const loc = full.id_ref.toString("hex");
    const text = (b: Buffer) => {
      const str = b.toString("utf8");
      b.fill(0);
      return str;
    };
    return {
      id: text(openField(key, name, loc, "id", full.id_ct)),
      text: text(openField(key, name, loc, "text", full.text_ct)),
      metadata: JSON.parse(text(openField(key, name, loc, "metadata", full.metadata_ct))) as Record<string, unknown>,
      ...(q === undefined ? {} : { score }),
      ...(full.subject_key_id === null ? {} : { subjectKeyId: full.subject_key_id }),
    };
  });
  return { chunks, erased, scanned: rows.length };
}
