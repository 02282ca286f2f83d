/** Purging erased subjects' chunks from corpus.db. Internal. */
import { isErased, subjectKeys } from "../subjects/index.js";
import { checkSubjectRef } from "./crypto.js";
import { type CorpusState, subjectPurposeOf } from "./state.js";

/**
 * Deletes the rows of erased subjects' chunks (their ciphertext is already unreadable; this
 * also removes their plain vectors and blind indexes, which erasure alone cannot reach),
 * truncates the WAL, and records `corpus.purge`.
 */
export async function purgeErased(s: CorpusState): Promise<{ purged: number }> {
  const name = s.row.name;
  const keys = subjectKeys(s.ks);
  keys.refresh(s.row.subject_namespace);
  const pairs = s.db
    .prepare<[string], { subject_key_id: string; subject_version: number }>(
      "SELECT DISTINCT subject_key_id, subject_version FROM chunks WHERE corpus = ? AND subject_key_id IS NOT NULL",
    )
    .all(name);
  const erased: typeof pairs = [];
  for (const p of pairs) {
    checkSubjectRef(p.subject_key_id, p.subject_version);
    const r = await keys.keyByRef(p.subject_key_id, p.subject_version, subjectPurposeOf(name));
    if (isErased(r)) erased.push(p);
    else r.key.fill(0);
  }
  const del = s.db.prepare("DELETE FROM chunks WHERE corpus = ? AND subject_key_id = ? AND subject_version = ?");
  const purged = s.ks.auditedChange(
    { operation: "corpus.purge", keyName: s.row.key_name, objectPath: `corpus:${name}`, context: { corpus: name, subjects: String(erased.length) } },
    () => s.db.transaction(() => erased.reduce((n, p) => n + del.run(name, p.subject_key_id, p.subject_version).changes, 0)).immediate(),
  );
  s.db.pragma("wal_checkpoint(TRUNCATE)");
  return { purged };
}
