/**
 * Retrieval: check the query, find and rank candidates, decrypt the chosen chunks, and record
 * one `corpus.retrieve` audit record before anything is returned (fail closed). Internal.
 */
import { UsageError } from "../../errors.js";
import { isErased, subjectKeys } from "../subjects/index.js";
import { type CorpusKeys, blindIndex, checkSubjectRef } from "./crypto.js";
import { type Candidate, findCandidates, selectChunks } from "./select.js";
import { type CorpusState, currentDimensions, subjectPurposeOf } from "./state.js";
import { type RetrieveQuery, type RetrieveResult, MAX_K, checkFilterValue, checkVector } from "./types.js";

export async function retrieveChunks(s: CorpusState, keys: CorpusKeys, query: RetrieveQuery): Promise<RetrieveResult> {
  const name = s.row.name;
  const k = query?.k;
  if (!Number.isSafeInteger(k) || k < 1 || k > MAX_K) throw new UsageError("INVALID_ARGUMENT", `k must be an integer in 1..${MAX_K}`);
  const filter = Object.entries(query.filter ?? {}).map(([field, value]) => {
    if (!s.filterFields.includes(field)) {
      throw new UsageError(
        "INVALID_ARGUMENT",
        `"${field.slice(0, 64)}" is not a filter field of corpus "${name}" (filter fields: ${s.filterFields.join(", ") || "none"}); filter fields get blind indexes, so they are chosen when the corpus is created: \`corpus add ${name} FILE --filter-fields ${field.slice(0, 64)}\` on a new corpus`,
      );
    }
    return [field, blindIndex(keys.tagKey, field, checkFilterValue(field, value))] as const;
  });
  const q = query.vector === undefined ? undefined : checkVector(query.vector, "the query vector");
  const dims = currentDimensions(s);
  if (q !== undefined && dims !== null && q.length !== dims)
    throw new UsageError("INVALID_ARGUMENT", `the query vector has ${q.length} dimensions; the corpus has ${dims}`);
  const candidates = findCandidates(
    s,
    filter.map(([f, t]) => [f, t]),
  );
  const resolved = await subjectKeysFor(s, candidates);
  const base = {
    corpus: name,
    filterFields: filter
      .map(([f]) => f)
      .sort()
      .join(","),
    k: String(k),
    vector: q === undefined ? "no" : "yes",
    ...(typeof query.onBehalfOf === "string" && query.onBehalfOf !== "" ? { onBehalfOf: query.onBehalfOf.slice(0, 256) } : {}),
  };
  let result: RetrieveResult;
  try {
    result = selectChunks(s, keys, candidates, resolved, q, k);
  } catch (e) {
    recordFailure(s, base, e);
    throw e;
  } finally {
    for (const sk of resolved.values()) sk?.fill(0);
  }
  s.ks.auditedChange(
    {
      operation: "corpus.retrieve",
      keyName: s.row.key_name,
      objectPath: `corpus:${name}`,
      context: { ...base, returned: String(result.chunks.length), erased: String(result.erased) },
    },
    () => undefined,
  );
  return result;
}

/** The subject key (or null when erased) of every subject among the candidates, keyed "keyId#version". */
async function subjectKeysFor(s: CorpusState, rows: Candidate[]): Promise<Map<string, Buffer | null>> {
  const out = new Map<string, Buffer | null>();
  if (!rows.some((r) => r.subject_key_id !== null)) return out;
  const keys = subjectKeys(s.ks);
  keys.refresh(s.row.subject_namespace); // see erasures made by other processes at once
  try {
    for (const r of rows) {
      if (r.subject_key_id === null) continue;
      const id = `${r.subject_key_id}#${r.subject_version}`;
      if (out.has(id)) continue;
      checkSubjectRef(r.subject_key_id, r.subject_version);
      const sk = await keys.keyByRef(r.subject_key_id, r.subject_version as number, subjectPurposeOf(s.row.name));
      out.set(id, isErased(sk) ? null : sk.key);
    }
  } catch (e) {
    for (const k of out.values()) k?.fill(0);
    throw e;
  }
  return out;
}

function recordFailure(s: CorpusState, context: Record<string, string>, e: unknown): void {
  try {
    s.ks.auditedChange({ operation: "corpus.retrieve", keyName: s.row.key_name, objectPath: `corpus:${s.row.name}`, context }, () => {
      throw e;
    });
  } catch {
    // recorded as error/denied (best effort); the caller rethrows the original
  }
}
