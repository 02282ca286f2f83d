/**
 * An encrypted retrieval corpus: document chunks, their metadata and (optionally) their
 * vectors sealed in corpus.db, decrypted only at retrieval, every retrieval audited.
 *
 * Security guarantees: chunk ids, text and metadata are sealed with AES-256-GCM under the
 * corpus data key (or, for a chunk with a `subject`, under that subject's key), with the
 * corpus, chunk and field bound as associated data; a tampered, moved or swapped value fails
 * with DecryptError. Filter fields are also stored as HMAC-SHA-256 blind indexes (equality
 * and frequency of their values are visible to a reader of corpus.db); plain vectors are
 * stored in clear. Retrieval fails closed: no audit record, no plaintext. Chunks of an
 * erased subject never decrypt again; they are skipped and counted.
 *
 * @example
 * const corpus = await openCorpus(ks, { file: "corpus.db", name: "support", create: { filterFields: ["tenant"] } });
 * await corpus.add([{ id: "doc1#0", text: "…", metadata: { tenant: "acme" }, vector: embedding }]);
 * const { chunks } = await corpus.retrieve({ vector: q, filter: { tenant: "acme" }, k: 5 });
 * corpus.close();
 */
import { UsageError } from "../../errors.js";
import type { SubjectKeyring } from "../subjects/index.js";
import { addChunks } from "./add.js";
import { type CorpusKeys, wipeKeys } from "./crypto.js";
import { corpusInfo } from "./info.js";
import { purgeErased } from "./purge.js";
import { retrieveChunks } from "./retrieve.js";
import { type CorpusState, subjectPurposeOf } from "./state.js";
import { type CorpusDb, type CorpusRow, closeCorpusDb } from "./store.js";
import type { ChunkInput, CorpusInfo, RetrieveQuery, RetrieveResult } from "./types.js";

export class Corpus {
  readonly #state: CorpusState;
  #keys: CorpusKeys | null;

  /** Use {@link openCorpus}. */
  constructor(ks: SubjectKeyring, db: CorpusDb, row: CorpusRow, keys: CorpusKeys, maxScan: number) {
    this.#state = { ks, db, row, filterFields: JSON.parse(row.filter_fields) as string[], maxScan };
    this.#keys = keys;
  }

  get name(): string {
    return this.#state.row.name;
  }

  /** The purpose under which subject chunks take their subject's key. */
  get subjectPurpose(): string {
    return subjectPurposeOf(this.#state.row.name);
  }

  /**
   * Adds (or replaces, by id) chunks in one transaction with one `corpus.add` audit record.
   * All chunks are checked before anything is written.
   * @throws UsageError(INVALID_ARGUMENT) for a malformed chunk (named by its index, never its content);
   *   KeyError(KEY_DESTROYED) for a chunk whose subject was erased; KeyError(KEY_USAGE_LIMIT); AuditError.
   */
  async add(chunks: readonly ChunkInput[]): Promise<{ added: number; replaced: number }> {
    return addChunks(this.#state, this.#live(), chunks);
  }

  /**
   * Retrieves up to `k` chunks: filtered by blind index, ranked by cosine similarity when a
   * vector is given (brute force over the candidates, at most `maxScan`), decrypted, and
   * recorded as one `corpus.retrieve` audit record (corpus, principal, filter field names,
   * chunks returned, erased skipped) before anything is returned.
   * @throws UsageError(INVALID_ARGUMENT) for an unknown filter field, a bad k or vector;
   *   UsageError(LIMIT_EXCEEDED) past maxScan; DecryptError for a tampered or moved row; AuditError.
   */
  async retrieve(query: RetrieveQuery): Promise<RetrieveResult> {
    return retrieveChunks(this.#state, this.#live(), query);
  }

  /** Counts, dimensions and options; no decryption. */
  info(): CorpusInfo {
    this.#live();
    return corpusInfo(this.#state.db, this.#state.row);
  }

  /**
   * Deletes the rows of erased subjects' chunks (their ciphertext is already unreadable; this
   * also removes their plain vectors and blind indexes, which erasure alone cannot reach),
   * truncates the WAL, and records `corpus.purge`.
   */
  async purgeErased(): Promise<{ purged: number }> {
    this.#live();
    return purgeErased(this.#state);
  }

  /** Wipes the corpus keys and closes corpus.db. Idempotent. */
  close(): void {
    if (this.#keys === null) return;
    wipeKeys(this.#keys);
    this.#keys = null;
    closeCorpusDb(this.#state.db);
  }

  #live(): CorpusKeys {
    if (this.#keys === null) throw new UsageError("INVALID_ARGUMENT", "the corpus is closed");
    return this.#keys;
  }
}
