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
import { KeyError, UsageError } from "../../errors.js";
import { isErased, subjectKeys, type SubjectKeyring } from "../subjects/index.js";
import { checkNamespace, checkSubjectId } from "../subjects/types.js";
import { type CorpusKeys, blindIndex, checkSubjectRef, corpusKeys, encodeVector, idRef, newRoot, openField, sealField, storedVector, wipeKeys } from "./crypto.js";
import { type ChunkRow, type CorpusDb, type CorpusRow, closeCorpusDb, openCorpusDb } from "./store.js";
import {
  type ChunkInput,
  type CorpusInfo,
  type CorpusOptions,
  type RetrieveQuery,
  type RetrieveResult,
  type RetrievedChunk,
  MAX_CHUNK_ID_BYTES,
  MAX_K,
  checkField,
  checkFilterValue,
  checkName,
  checkVector,
} from "./types.js";
import { cosine, norm, rank } from "./vector.js";

export interface OpenCorpusOptions {
  /** Path of corpus.db (the CLI uses `<keystore home>/corpus.db`). */
  readonly file: string;
  readonly name: string;
  /** Create the corpus with these options if it does not exist (given options must match an existing one). */
  readonly create?: CorpusOptions;
  /** Most candidate chunks one retrieval examines (after filters); more is refused. Default 100,000. */
  readonly maxScan?: number;
}

/** GCM with random IVs: at most 2^32 seals per data key (NIST SP 800-38D §8.3). */
const MAX_SEALS = 2 ** 32;

/**
 * Opens a corpus (creating it with `create`); one audited unwrap of its data key.
 * @throws UsageError(INVALID_ARGUMENT) for bad names or options, or a missing corpus without `create`;
 *   KeyError, KeystoreError, AuditError, DecryptError (the wrapped key does not open under this corpus name).
 */
export async function openCorpus(ks: SubjectKeyring, options: OpenCorpusOptions): Promise<Corpus> {
  const name = checkName(options.name);
  const maxScan = options.maxScan ?? 100_000;
  if (!Number.isSafeInteger(maxScan) || maxScan < 1) throw new UsageError("INVALID_ARGUMENT", "maxScan must be a positive integer");
  const db = openCorpusDb(options.file, options.create !== undefined);
  try {
    let row = db.prepare<[string], CorpusRow>("SELECT * FROM corpora WHERE name = ?").get(name);
    let root: Buffer;
    if (row === undefined) {
      if (options.create === undefined) throw new UsageError("INVALID_ARGUMENT", `no corpus named "${name}" in ${options.file}`);
      ({ row, root } = await createCorpusRow(ks, db, name, options.create));
    } else {
      if (options.create !== undefined) checkSameOptions(row, options.create);
      root = await ks.unwrap(
        { keyring: row.keyring, keyName: row.key_name, keyVersion: row.key_version, wrapped: row.wrapped_root },
        wrapContext(name),
        { operation: "corpus-open", path: `corpus:${name}` },
      );
    }
    try {
      return new Corpus(ks, db, row, corpusKeys(root, name), maxScan);
    } finally {
      root.fill(0);
    }
  } catch (e) {
    closeCorpusDb(db);
    throw e;
  }
}

function wrapContext(name: string): Record<string, string> {
  return { purpose: "corpus", corpus: name };
}

function normalizeOptions(name: string, o: CorpusOptions): { vectors: "plain" | "encrypted"; filterFields: string[]; subjectNamespace: string; keyName: string } {
  const vectors = o.vectors ?? "plain";
  if (vectors !== "plain" && vectors !== "encrypted") throw new UsageError("INVALID_ARGUMENT", `vectors must be "plain" or "encrypted"`);
  const filterFields = [...new Set((o.filterFields ?? []).map(checkField))].sort();
  return { vectors, filterFields, subjectNamespace: checkNamespace(o.subjectNamespace ?? "default"), keyName: o.keyName ?? `corpus/${name}` };
}

function checkSameOptions(row: CorpusRow, given: CorpusOptions): void {
  const o = normalizeOptions(row.name, given);
  const same =
    (given.vectors === undefined || o.vectors === row.vectors) &&
    (given.filterFields === undefined || JSON.stringify(o.filterFields) === row.filter_fields) &&
    (given.subjectNamespace === undefined || o.subjectNamespace === row.subject_namespace) &&
    (given.keyName === undefined || o.keyName === row.key_name);
  if (!same) throw new UsageError("INVALID_ARGUMENT", `corpus "${row.name}" exists with other options (vectors ${row.vectors}, filter fields ${row.filter_fields}, subject namespace ${row.subject_namespace})`);
}

async function createCorpusRow(ks: SubjectKeyring, db: CorpusDb, name: string, given: CorpusOptions): Promise<{ row: CorpusRow; root: Buffer }> {
  const o = normalizeOptions(name, given);
  try {
    ks.createKey(o.keyName);
  } catch (e) {
    if ((e as { code?: string }).code !== "KEY_EXISTS") throw e;
  }
  const root = newRoot();
  try {
    const entry = await ks.wrap(o.keyName, root, wrapContext(name));
    const row: CorpusRow = {
      name,
      keyring: entry.keyring,
      key_name: entry.keyName,
      key_version: entry.keyVersion,
      wrapped_root: Buffer.from(entry.wrapped),
      vectors: o.vectors,
      dimensions: null,
      filter_fields: JSON.stringify(o.filterFields),
      subject_namespace: o.subjectNamespace,
      seal_count: 0,
      created_at: Date.now(),
    };
    const context = { corpus: name, vectors: o.vectors, filterFields: o.filterFields.join(",") };
    ks.auditedChange({ operation: "corpus.create", keyName: o.keyName, keyVersion: entry.keyVersion, objectPath: `corpus:${name}`, context }, () =>
      db
        .prepare(
          `INSERT INTO corpora (name, keyring, key_name, key_version, wrapped_root, vectors, dimensions, filter_fields, subject_namespace, seal_count, created_at)
           VALUES (@name, @keyring, @key_name, @key_version, @wrapped_root, @vectors, @dimensions, @filter_fields, @subject_namespace, @seal_count, @created_at)`,
        )
        .run(row),
    );
    return { row, root };
  } catch (e) {
    root.fill(0);
    throw e;
  }
}

interface Sealed {
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

type Candidate = Pick<ChunkRow, "seq" | "id_ref" | "subject_key_id" | "subject_version" | "vector">;

export class Corpus {
  readonly #ks: SubjectKeyring;
  readonly #db: CorpusDb;
  readonly #row: CorpusRow;
  readonly #filterFields: string[];
  readonly #maxScan: number;
  #keys: CorpusKeys | null;

  /** Use {@link openCorpus}. */
  constructor(ks: SubjectKeyring, db: CorpusDb, row: CorpusRow, keys: CorpusKeys, maxScan: number) {
    this.#ks = ks;
    this.#db = db;
    this.#row = row;
    this.#filterFields = JSON.parse(row.filter_fields) as string[];
    this.#keys = keys;
    this.#maxScan = maxScan;
  }

  get name(): string {
    return this.#row.name;
  }

  /** The purpose under which subject chunks take their subject's key. */
  get subjectPurpose(): string {
    return `corpus/${this.#row.name}`;
  }

  /**
   * Adds (or replaces, by id) chunks in one transaction with one `corpus.add` audit record.
   * All chunks are checked before anything is written.
   * @throws UsageError(INVALID_ARGUMENT) for a malformed chunk (named by its index, never its content);
   *   KeyError(KEY_DESTROYED) for a chunk whose subject was erased; KeyError(KEY_USAGE_LIMIT); AuditError.
   */
  async add(chunks: readonly ChunkInput[]): Promise<{ added: number; replaced: number }> {
    const keys = this.#live();
    if (!Array.isArray(chunks)) throw new UsageError("INVALID_ARGUMENT", "chunks must be an array");
    let dims = this.#dimensions();
    chunks.forEach((c, i) => {
      dims = this.#check(c, i, dims);
    });
    const subjects = [...new Set(chunks.flatMap((c) => (c.subject === undefined ? [] : [c.subject])))];
    const subjectKeyMap = subjects.length === 0 ? new Map() : await subjectKeys(this.#ks).keys(this.#row.subject_namespace, subjects, this.subjectPurpose);
    let sealed: Sealed[];
    try {
      sealed = chunks.map((c, i) => {
        const sk = c.subject === undefined ? undefined : subjectKeyMap.get(c.subject);
        if (sk !== undefined && isErased(sk)) throw new KeyError("KEY_DESTROYED", `chunk #${i}: its subject was erased; recreate the subject explicitly to add data for it`);
        return this.#seal(keys, c, sk);
      });
    } finally {
      for (const sk of subjectKeyMap.values()) if (!isErased(sk)) sk.key.fill(0);
    }
    const seals = sealed.reduce((n, s) => n + s.sealsUnderDataKey, 0);
    const name = this.#row.name;
    const write = this.#db.transaction(() => {
      const count = this.#db.prepare<[string], number>("SELECT seal_count FROM corpora WHERE name = ?").pluck().get(name) as number;
      if (count + seals > MAX_SEALS) throw new KeyError("KEY_USAGE_LIMIT", `corpus "${name}" reached its data key's limit of 2^32 encryptions; copy it into a new corpus`);
      this.#db.prepare("UPDATE corpora SET seal_count = seal_count + ?, dimensions = COALESCE(dimensions, ?) WHERE name = ?").run(seals, dims, name);
      const find = this.#db.prepare<[string, Buffer], number>("SELECT seq FROM chunks WHERE corpus = ? AND id_ref = ?").pluck();
      const del = this.#db.prepare("DELETE FROM chunks WHERE seq = ?");
      const ins = this.#db.prepare(
        "INSERT INTO chunks (corpus, id_ref, id_ct, subject_key_id, subject_version, text_ct, metadata_ct, vector, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      const tag = this.#db.prepare("INSERT OR IGNORE INTO chunk_tags (field, tag, chunk) VALUES (?, ?, ?)");
      let replaced = 0;
      const now = Date.now();
      for (const s of sealed) {
        const old = find.get(name, s.ref);
        if (old !== undefined) {
          del.run(old);
          replaced++;
        }
        const seq = Number(ins.run(name, s.ref, s.idCt, s.subjectKeyId, s.subjectVersion, s.textCt, s.metadataCt, s.vector, now).lastInsertRowid);
        for (const [field, t] of s.tags) tag.run(field, t, seq);
      }
      return replaced;
    });
    const replaced = this.#ks.auditedChange(
      { operation: "corpus.add", keyName: this.#row.key_name, objectPath: `corpus:${name}`, context: { corpus: name, chunks: String(sealed.length) } },
      () => write.immediate(),
    );
    if (this.#row.dimensions === null && dims !== null) this.#row.dimensions = dims;
    return { added: sealed.length - replaced, replaced };
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
    const keys = this.#live();
    const k = query?.k;
    if (!Number.isSafeInteger(k) || k < 1 || k > MAX_K) throw new UsageError("INVALID_ARGUMENT", `k must be an integer in 1..${MAX_K}`);
    const filter = Object.entries(query.filter ?? {}).map(([field, value]) => {
      if (!this.#filterFields.includes(field)) {
        throw new UsageError("INVALID_ARGUMENT", `"${field.slice(0, 64)}" is not a filter field of corpus "${this.name}" (filter fields: ${this.#filterFields.join(", ") || "none"})`);
      }
      return [field, blindIndex(keys.tagKey, field, checkFilterValue(field, value))] as const;
    });
    const q = query.vector === undefined ? undefined : checkVector(query.vector, "the query vector");
    const dims = this.#dimensions();
    if (q !== undefined && dims !== null && q.length !== dims) throw new UsageError("INVALID_ARGUMENT", `the query vector has ${q.length} dimensions; the corpus has ${dims}`);
    const candidates = this.#candidates(filter.map(([f, t]) => [f, t]));
    const resolved = await this.#subjectKeysFor(candidates);
    const base = {
      corpus: this.name,
      filterFields: filter.map(([f]) => f).sort().join(","),
      k: String(k),
      vector: q === undefined ? "no" : "yes",
      ...(typeof query.onBehalfOf === "string" && query.onBehalfOf !== "" ? { onBehalfOf: query.onBehalfOf.slice(0, 256) } : {}),
    };
    let result: RetrieveResult;
    try {
      result = this.#select(keys, candidates, resolved, q, k);
    } catch (e) {
      this.#recordFailure(base, e);
      throw e;
    } finally {
      for (const sk of resolved.values()) sk?.fill(0);
    }
    this.#ks.auditedChange(
      { operation: "corpus.retrieve", keyName: this.#row.key_name, objectPath: `corpus:${this.name}`, context: { ...base, returned: String(result.chunks.length), erased: String(result.erased) } },
      () => undefined,
    );
    return result;
  }

  /** Counts, dimensions and options; no decryption. */
  info(): CorpusInfo {
    this.#live();
    return corpusInfo(this.#db, this.#row);
  }

  /**
   * Deletes the rows of erased subjects' chunks (their ciphertext is already unreadable; this
   * also removes their plain vectors and blind indexes, which erasure alone cannot reach),
   * truncates the WAL, and records `corpus.purge`.
   */
  async purgeErased(): Promise<{ purged: number }> {
    this.#live();
    const keys = subjectKeys(this.#ks);
    keys.refresh(this.#row.subject_namespace);
    const pairs = this.#db
      .prepare<[string], { subject_key_id: string; subject_version: number }>("SELECT DISTINCT subject_key_id, subject_version FROM chunks WHERE corpus = ? AND subject_key_id IS NOT NULL")
      .all(this.name);
    const erased: typeof pairs = [];
    for (const p of pairs) {
      checkSubjectRef(p.subject_key_id, p.subject_version);
      const r = await keys.keyByRef(p.subject_key_id, p.subject_version, this.subjectPurpose);
      if (isErased(r)) erased.push(p);
      else r.key.fill(0);
    }
    const del = this.#db.prepare("DELETE FROM chunks WHERE corpus = ? AND subject_key_id = ? AND subject_version = ?");
    const purged = this.#ks.auditedChange({ operation: "corpus.purge", keyName: this.#row.key_name, objectPath: `corpus:${this.name}`, context: { corpus: this.name, subjects: String(erased.length) } }, () =>
      this.#db.transaction(() => erased.reduce((n, p) => n + del.run(this.name, p.subject_key_id, p.subject_version).changes, 0)).immediate(),
    );
    this.#db.pragma("wal_checkpoint(TRUNCATE)");
    return { purged };
  }

  /** Wipes the corpus keys and closes corpus.db. Idempotent. */
  close(): void {
    if (this.#keys === null) return;
    wipeKeys(this.#keys);
    this.#keys = null;
    closeCorpusDb(this.#db);
  }

  #live(): CorpusKeys {
    if (this.#keys === null) throw new UsageError("INVALID_ARGUMENT", "the corpus is closed");
    return this.#keys;
  }

  #dimensions(): number | null {
    return this.#db.prepare<[string], number | null>("SELECT dimensions FROM corpora WHERE name = ?").pluck().get(this.name) ?? null;
  }

  #check(c: ChunkInput, i: number, dims: number | null): number | null {
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
    for (const f of this.#filterFields) {
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

  #seal(keys: CorpusKeys, c: ChunkInput, sk: { key: Buffer; keyId: string; version: number } | undefined): Sealed {
    const ref = idRef(keys.indexKey, c.id);
    const loc = ref.toString("hex");
    const key = sk?.key ?? keys.dataKey;
    const name = this.name;
    const metadata = c.metadata ?? {};
    const vec = c.vector === undefined ? null : encodeVector(c.vector);
    const vector = vec === null ? null : this.#row.vectors === "plain" ? vec : sealField(key, name, loc, "vector", vec);
    const tags: [string, Buffer][] = [];
    for (const f of this.#filterFields) {
      if (Object.hasOwn(metadata, f)) tags.push([f, blindIndex(keys.tagKey, f, metadata[f] as string)]);
    }
    const seals = 3 + (vec !== null && this.#row.vectors === "encrypted" ? 1 : 0);
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

  /** Candidate rows after the blind-index filters, in insertion order; at most maxScan. */
  #candidates(filter: (readonly [string, Buffer])[]): Candidate[] {
    const where = filter.map(() => "AND seq IN (SELECT chunk FROM chunk_tags WHERE field = ? AND tag = ?)").join(" ");
    const stmt = this.#db.prepare(`SELECT seq, id_ref, subject_key_id, subject_version, vector FROM chunks WHERE corpus = ? ${where} ORDER BY seq LIMIT ?`);
    const rows = stmt.all(this.name, ...filter.flat(), this.#maxScan + 1) as Candidate[];
    if (rows.length > this.#maxScan) {
      throw new UsageError("LIMIT_EXCEEDED", `more than ${this.#maxScan} chunks match; narrow the query with a filter (brute-force search does not scale past maxScan)`);
    }
    return rows;
  }

  /** The subject key (or null when erased) of every subject among the candidates, keyed "keyId#version". */
  async #subjectKeysFor(rows: Candidate[]): Promise<Map<string, Buffer | null>> {
    const out = new Map<string, Buffer | null>();
    if (!rows.some((r) => r.subject_key_id !== null)) return out;
    const keys = subjectKeys(this.#ks);
    keys.refresh(this.#row.subject_namespace); // see erasures made by other processes at once
    try {
      for (const r of rows) {
        if (r.subject_key_id === null) continue;
        const id = `${r.subject_key_id}#${r.subject_version}`;
        if (out.has(id)) continue;
        checkSubjectRef(r.subject_key_id, r.subject_version);
        const sk = await keys.keyByRef(r.subject_key_id, r.subject_version as number, this.subjectPurpose);
        out.set(id, isErased(sk) ? null : sk.key);
      }
    } catch (e) {
      for (const k of out.values()) k?.fill(0);
      throw e;
    }
    return out;
  }

  #select(keys: CorpusKeys, rows: Candidate[], subjectKeysById: Map<string, Buffer | null>, q: number[] | undefined, k: number): RetrieveResult {
    const keyOf = (r: Candidate): Buffer | null => (r.subject_key_id === null ? keys.dataKey : (subjectKeysById.get(`${r.subject_key_id}#${r.subject_version}`) ?? null));
    let erased = 0;
    const live: { row: Candidate; key: Buffer; score: number; seq: number }[] = [];
    const qNorm = q === undefined ? 0 : norm(q);
    const need = this.#db.prepare<[number], ChunkRow>("SELECT * FROM chunks WHERE seq = ?");
    for (const row of rows) {
      const key = keyOf(row);
      if (key === null) {
        erased++;
        continue;
      }
      let score = 0;
      if (q !== undefined) {
        if (row.vector === null) continue; // a chunk without a vector cannot rank
        const bytes = this.#row.vectors === "plain" ? row.vector : openField(key, this.name, row.id_ref.toString("hex"), "vector", row.vector);
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
        const s = b.toString("utf8");
        b.fill(0);
        return s;
      };
      return {
        id: text(openField(key, this.name, loc, "id", full.id_ct)),
        text: text(openField(key, this.name, loc, "text", full.text_ct)),
        metadata: JSON.parse(text(openField(key, this.name, loc, "metadata", full.metadata_ct))) as Record<string, unknown>,
        ...(q === undefined ? {} : { score }),
        ...(full.subject_key_id === null ? {} : { subjectKeyId: full.subject_key_id }),
      };
    });
    return { chunks, erased, scanned: rows.length };
  }

  #recordFailure(context: Record<string, string>, e: unknown): void {
    try {
      this.#ks.auditedChange({ operation: "corpus.retrieve", keyName: this.#row.key_name, objectPath: `corpus:${this.name}`, context }, () => {
        throw e;
      });
    } catch {
      // recorded as error/denied (best effort); the caller rethrows the original
    }
  }
}

function corpusInfo(db: CorpusDb, row: CorpusRow): CorpusInfo {
  const c = db
    .prepare<[string], { n: number; s: number }>("SELECT COUNT(*) AS n, COUNT(subject_key_id) AS s FROM chunks WHERE corpus = ?")
    .get(row.name) as { n: number; s: number };
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
