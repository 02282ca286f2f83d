/** Adding chunks: check them all, seal them, write them in one transaction with one `corpus.add` record. Internal. */
import { KeyError, UsageError } from "../../errors.js";
import { isList } from "../../io/json-value.js";
import { type SubjectKeyResult, isErased, subjectKeys } from "../subjects/index.js";
import { checkSubjectId } from "../subjects/types.js";
import type { CorpusKeys } from "./crypto.js";
import { type Sealed, sealChunk } from "./seal.js";
import { type CorpusState, currentDimensions, subjectPurposeOf } from "./state.js";
import { type ChunkInput, MAX_CHUNK_ID_BYTES, checkFilterValue, checkVector } from "./types.js";

/** GCM with random IVs: at most 2^32 seals per data key (NIST SP 800-38D §8.3). */
const MAX_SEALS = 2 ** 32;

export async function addChunks(s: CorpusState, keys: CorpusKeys, chunks: readonly ChunkInput[]): Promise<{ added: number; replaced: number }> {
  if (!isList(chunks)) throw new UsageError("INVALID_ARGUMENT", "chunks must be an array");
  let dims = currentDimensions(s);
  chunks.forEach((c, i) => {
    dims = checkChunk(s, c, i, dims);
  });
  const subjects = [...new Set(chunks.flatMap((c) => (c.subject === undefined ? [] : [c.subject])))];
  const subjectKeyMap =
    subjects.length === 0 ? new Map<string, SubjectKeyResult>() : await subjectKeys(s.ks).keys(s.row.subject_namespace, subjects, subjectPurposeOf(s.row.name));
  let sealed: Sealed[];
  try {
    sealed = chunks.map((c, i) => {
      const sk = c.subject === undefined ? undefined : subjectKeyMap.get(c.subject);
      if (sk !== undefined && isErased(sk))
        throw new KeyError("KEY_DESTROYED", `chunk #${i}: its subject was erased; recreate the subject explicitly to add data for it`);
      return sealChunk(s, keys, c, sk);
    });
  } finally {
    for (const sk of subjectKeyMap.values()) if (!isErased(sk)) sk.key.fill(0);
  }
  const seals = sealed.reduce((n, x) => n + x.sealsUnderDataKey, 0);
  const name = s.row.name;
  const write = writeSealed(s, sealed, seals, dims);
  const replaced = s.ks.auditedChange(
    { operation: "corpus.add", keyName: s.row.key_name, objectPath: `corpus:${name}`, context: { corpus: name, chunks: String(sealed.length) } },
    () => write.immediate(),
  );
  if (s.row.dimensions === null && dims !== null) s.row.dimensions = dims;
  return { added: sealed.length - replaced, replaced };
}

/** The transaction that counts the seals against MAX_SEALS and replaces (by id ref) or inserts the chunks; returns how many it replaced. */
function writeSealed(s: CorpusState, sealed: readonly Sealed[], seals: number, dims: number | null) {
  const db = s.db;
  const name = s.row.name;
  return db.transaction(() => {
    const count = db.prepare<[string], number>("SELECT seal_count FROM corpora WHERE name = ?").pluck().get(name) as number;
    if (count + seals > MAX_SEALS)
      throw new KeyError("KEY_USAGE_LIMIT", `corpus "${name}" reached its data key's limit of 2^32 encryptions; copy it into a new corpus`);
    db.prepare("UPDATE corpora SET seal_count = seal_count + ?, dimensions = COALESCE(dimensions, ?) WHERE name = ?").run(seals, dims, name);
    const find = db.prepare<[string, Buffer], number>("SELECT seq FROM chunks WHERE corpus = ? AND id_ref = ?").pluck();
    const del = db.prepare("DELETE FROM chunks WHERE seq = ?");
    const ins = db.prepare(
      "INSERT INTO chunks (corpus, id_ref, id_ct, subject_key_id, subject_version, text_ct, metadata_ct, vector, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const tag = db.prepare("INSERT OR IGNORE INTO chunk_tags (field, tag, chunk) VALUES (?, ?, ?)");
    let replaced = 0;
    const now = Date.now();
    for (const x of sealed) {
      const old = find.get(name, x.ref);
      if (old !== undefined) {
        del.run(old);
        replaced++;
      }
      const seq = Number(ins.run(name, x.ref, x.idCt, x.subjectKeyId, x.subjectVersion, x.textCt, x.metadataCt, x.vector, now).lastInsertRowid);
      for (const [field, t] of x.tags) tag.run(field, t, seq);
    }
    return replaced;
  });
}

/** Checks chunk #i against the corpus (never naming its content); returns the corpus dimensions after it. */
function checkChunk(s: CorpusState, c: ChunkInput, i: number, dims: number | null): number | null {
  if (c === null || typeof c !== "object") throw new UsageError("INVALID_ARGUMENT", `chunk #${i} is not an object`);
  if (typeof c.id !== "string" || c.id === "" || Buffer.byteLength(c.id) > MAX_CHUNK_ID_BYTES) {
    throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: id must be a non-empty string of at most ${MAX_CHUNK_ID_BYTES} UTF-8 bytes`);
  }
  if (typeof c.text !== "string") throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: text must be a string`);
  if (c.metadata !== undefined && (c.metadata === null || typeof c.metadata !== "object" || Array.isArray(c.metadata))) {
    throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: metadata must be an object`);
  }
  if (c.subject !== undefined) {
    try {
      checkSubjectId(c.subject);
    } catch {
      throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: subject must be a non-empty string of at most 1024 UTF-8 bytes`);
    }
  }
  for (const f of s.filterFields) {
    if (c.metadata !== undefined && Object.hasOwn(c.metadata, f)) {
      try {
        checkFilterValue(f, c.metadata[f]);
      } catch {
        throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: filter field "${f}" must hold a string, number or boolean`);
      }
    }
  }
  if (c.vector === undefined) return dims;
  const v = checkVector(c.vector, `chunk #${i}: vector`);
  if (dims !== null && v.length !== dims) throw new UsageError("INVALID_ARGUMENT", `chunk #${i}: vector has ${v.length} dimensions; the corpus has ${dims}`);
  return v.length;
}
