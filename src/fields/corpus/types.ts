/** Public types and input checks of encrypted retrieval corpora. */
import { UsageError } from "../../errors.js";

/** A filterable metadata value: compared by equality through a blind index. */
export type FilterValue = string | number | boolean;

/** One document chunk to add. */
export interface ChunkInput {
  /** Unique within the corpus; adding an existing id replaces the chunk. At most 1024 UTF-8 bytes. */
  readonly id: string;
  readonly text: string;
  /** Any JSON object; fields named in the corpus's `filterFields` must be string, number or boolean. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** The embedding; every chunk of a corpus has the same dimension. */
  readonly vector?: readonly number[];
  /** A data-subject id: the chunk is sealed under that subject's key and dies with `subject erase`. */
  readonly subject?: string;
}

export interface CorpusOptions {
  /**
   * `plain` (default): vectors stored in clear, so a plain vector index could be built from
   * them, and an embedding can be inverted back to much of its text; `encrypted`: sealed like
   * the text, searched by brute force after decryption in memory (bounded by `maxScan`).
   */
  readonly vectors?: "plain" | "encrypted";
  /** Metadata fields kept filterable (HMAC-SHA-256 blind indexes; equality only). */
  readonly filterFields?: readonly string[];
  /** Subject namespace of chunks that carry a `subject` (default "default"). */
  readonly subjectNamespace?: string;
  /** Keystore key that wraps the corpus data key (default `corpus/<name>`, created if missing). */
  readonly keyName?: string;
}

export interface RetrieveQuery {
  /** Rank by cosine similarity to this vector; without it, chunks come in insertion order. */
  readonly vector?: readonly number[];
  /** Equality on filter fields, ANDed. Field names are audited, values never. */
  readonly filter?: Readonly<Record<string, FilterValue>>;
  /** How many chunks to return, 1..1000. */
  readonly k: number;
  /** The end user a service retrieves for; recorded in the audit record's context. */
  readonly onBehalfOf?: string;
}

export interface RetrievedChunk {
  readonly id: string;
  readonly text: string;
  readonly metadata: Record<string, unknown>;
  /** Cosine similarity, when the query had a vector. */
  readonly score?: number;
  /** The subject keyId (a pseudonym, never the subject id), for subject-sealed chunks. */
  readonly subjectKeyId?: string;
}

export interface RetrieveResult {
  readonly chunks: RetrievedChunk[];
  /** Chunks that matched but belong to erased subjects: excluded, only counted. */
  readonly erased: number;
  /** Candidate chunks examined (after filters). */
  readonly scanned: number;
}

export interface CorpusInfo {
  readonly name: string;
  readonly vectors: "plain" | "encrypted";
  readonly dimensions: number | null;
  readonly filterFields: string[];
  readonly subjectNamespace: string;
  readonly keyName: string;
  readonly chunks: number;
  readonly subjectChunks: number;
  readonly createdAt: number;
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const MAX_CHUNK_ID_BYTES = 1024;
export const MAX_K = 1000;
export const MAX_DIMENSIONS = 65_536;

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new UsageError("INVALID_ARGUMENT", "a corpus name is 1-64 characters of a-z 0-9 _ -, starting with a letter or digit");
  }
  return name;
}

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkField(field: unknown): string {
  if (typeof field !== "string" || !FIELD_PATTERN.test(field)) {
    throw new UsageError("INVALID_ARGUMENT", `invalid filter field name ${JSON.stringify(String(field).slice(0, 40))}`);
  }
  return field;
}

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkVector(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_DIMENSIONS || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new UsageError("INVALID_ARGUMENT", `${what} must be a non-empty array of at most ${MAX_DIMENSIONS} finite numbers`);
  }
  return v as number[];
}

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkFilterValue(field: string, v: unknown): FilterValue {
  if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return v;
  throw new UsageError("INVALID_ARGUMENT", `filter field "${field}" must hold a string, number or boolean`);
}
