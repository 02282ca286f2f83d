/** Corpus counts and options, read from corpus.db without keys or decryption. */
import { type CorpusDb, type CorpusRow, closeCorpusDb, openCorpusDb } from "./store.js";
import type { CorpusInfo } from "./types.js";

export function corpusInfo(db: CorpusDb, row: CorpusRow): CorpusInfo {
  const c = db.prepare<[string], { n: number; s: number }>("SELECT COUNT(*) AS n, COUNT(subject_key_id) AS s FROM chunks WHERE corpus = ?").get(row.name) as {
    n: number;
    s: number;
  };
  const fresh = db.prepare<[string], CorpusRow>("SELECT * FROM corpora WHERE name = ?").get(row.name) ?? row;
  return {
    name: row.name,
    vectors: fresh.vectors,
    dimensions: fresh.dimensions,
    filterFields: JSON.parse(fresh.filter_fields) as string[],
    subjectNamespace: fresh.subject_namespace,
    keyName: fresh.key_name,
    chunks: c.n,
    subjectChunks: c.s,
    createdAt: fresh.created_at,
  };
}

/** Every corpus in a corpus.db, with counts; needs no keys and decrypts nothing. */
export function corpusStats(file: string): CorpusInfo[] {
  const db = openCorpusDb(file, false);
  try {
    return db
      .prepare<[], CorpusRow>("SELECT * FROM corpora ORDER BY name")
      .all()
      .map((row) => corpusInfo(db, row));
  } finally {
    closeCorpusDb(db);
  }
}
