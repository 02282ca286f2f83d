/**
 * Sealing one chunk: id, text, metadata (and, in an encrypted-vectors corpus, its vector)
 * under the corpus data key or its subject's key, bound to corpus, chunk and field; plus the
 * blind indexes of its filter fields. Internal.
 */
import { type CorpusKeys, blindIndex, encodeVector, idRef, sealField } from "./crypto.js";
import type { CorpusState } from "./state.js";
import type { ChunkInput } from "./types.js";

/** A chunk ready to be written: the columns of its chunks row and its chunk_tags. */
export interface Sealed {
  ref: Buffer;
  idCt: Buffer;
  subjectKeyId: string | null;
  subjectVersion: number | null;
  textCt: Buffer;
  metadataCt: Buffer;
  vector: Buffer | null;
  tags: [string, Buffer][];
  sealsUnderDataKey: number;
}

export function sealChunk(s: CorpusState, keys: CorpusKeys, c: ChunkInput, sk: { key: Buffer; keyId: string; version: number } | undefined): Sealed {
  const ref = idRef(keys.indexKey, c.id);
  const loc = ref.toString("hex");
  const key = sk?.key ?? keys.dataKey;
  const name = s.row.name;
  const metadata = c.metadata ?? {};
  const vec = c.vector === undefined ? null : encodeVector(c.vector);
  const vector = vec === null ? null : s.row.vectors === "plain" ? vec : sealField(key, name, loc, "vector", vec);
  const tags: [string, Buffer][] = [];
  for (const f of s.filterFields) {
    if (Object.hasOwn(metadata, f)) tags.push([f, blindIndex(keys.tagKey, f, metadata[f] as string)]);
  }
  const seals = 3 + (vec !== null && s.row.vectors === "encrypted" ? 1 : 0);
  return {
    ref,
    idCt: sealField(key, name, loc, "id", Buffer.from(c.id, "utf8")),
    subjectKeyId: sk?.keyId ?? null,
    subjectVersion: sk?.version ?? null,
    textCt: sealField(key, name, loc, "text", Buffer.from(c.text, "utf8")),
    metadataCt: sealField(key, name, loc, "metadata", Buffer.from(JSON.stringify(metadata), "utf8")),
    vector,
    tags,
    sealsUnderDataKey: sk === undefined ? seals : 0,
  };
}
