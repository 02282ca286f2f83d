/** What a corpus's operations share: its keyring, its corpus.db and its corpora row. Internal. */
import type { SubjectKeyring } from "../subjects/index.js";
import type { CorpusDb, CorpusRow } from "./store.js";

export interface CorpusState {
  readonly ks: SubjectKeyring;
  readonly db: CorpusDb;
  /** The corpora row as opened; `dimensions` is filled in by the first add with vectors. */
  readonly row: CorpusRow;
  readonly filterFields: readonly string[];
  /** Most candidate chunks one retrieval examines. */
  readonly maxScan: number;
}

/** The purpose under which subject chunks take their subject's key. */
export function subjectPurposeOf(name: string): string {
  return `corpus/${name}`;
}

/** The corpus's vector dimensions as stored now (another process may have set them). */
export function currentDimensions(s: CorpusState): number | null {
  return s.db.prepare<[string], number | null>("SELECT dimensions FROM corpora WHERE name = ?").pluck().get(s.row.name) ?? null;
}
