/**
 * Per-subject keys: every data subject (a customer, a patient) of a namespace gets its own
 * random secret, from which a 32-byte key per purpose is derived. Erasing the subject
 * deletes the secret (crypto-shredding): every copy of data sealed under its keys, in every
 * dataset, feature table, corpus and backup of that data, becomes unreadable, while other
 * subjects are untouched. The secret is stored only sealed, in keystore.db; the subject id
 * is never stored (rows are keyed by a keyed HMAC of it: derive.ts).
 *
 * Security guarantees: keys of different (namespace, subject, purpose, version) are
 * independent (HKDF-SHA-256, RFC 5869); once `erase` returns, the secret is gone from the
 * keystore file and its WAL (NULLed row, `secure_delete`, WAL truncated), and every lookup,
 * in any process, reports `{ erased: true }` instead of minting a fresh key: a new key after
 * erasure takes the explicit, audited {@link SubjectKeys.recreate}. Not covered: copies of
 * keystore.db made before the erasure (backups must expire), and keys already handed to a
 * running process (its cache notices the erasure within `recheckAfterMs`). This file holds the
 * operations; the cache of opened secrets and the erasure re-check are subject-cache.ts.
 *
 * @example
 * const keys = subjectKeys(ks);
 * const r = await keys.key("customers", "cust-0042", "fields/email");
 * if (!isErased(r)) { use(r.key, r.keyId, r.version); r.key.fill(0); }
 */
import { KeyError, UsageError } from "../../errors.js";
import { keyIdOf, newSecret, parseKeyId, sealSecret, subjectRef } from "./derive.js";
import { type SubjectRow, statements } from "./rows.js";
import { type Entry, type NsCache, SubjectCache } from "./subject-cache.js";
import { isList } from "../../io/json-value.js"; // Array.isArray would widen readonly string[] to any[]
import {
  type NamespaceSummary,
  type SubjectKeyResult,
  type SubjectKeyring,
  type SubjectStatus,
  checkNamespace,
  checkPurpose,
  checkSubjectId,
} from "./types.js";

export interface SubjectKeysOptions {
  /** Subjects cached per namespace; the oldest are evicted and wiped. Default 100,000. */
  readonly maxCachedSubjects?: number;
  /** How long cached keys are served before re-reading the namespace's erasure counter (ms). Default 1000. */
  readonly recheckAfterMs?: number;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
}

export interface EraseResult {
  readonly keyId: string;
  /** True if the subject was already erased (the call changed nothing but is still audited). */
  readonly alreadyErased: boolean;
  /** False if another connection blocked the WAL truncation (it happens at its next checkpoint). */
  readonly walTruncated: boolean;
}

interface Pending {
  ns: string;
  id: string;
  purpose: string;
  resolve(r: SubjectKeyResult): void;
  reject(e: unknown): void;
}

export class SubjectKeys {
  readonly #ks: SubjectKeyring;
  readonly #now: () => number;
  readonly #cache: SubjectCache;
  #queue: Pending[] = [];
  #closed = false;

  /** Use {@link subjectKeys}, which shares one instance (one cache) per keystore handle. */
  constructor(ks: SubjectKeyring, options: SubjectKeysOptions = {}) {
    const max = options.maxCachedSubjects ?? 100_000;
    const recheck = options.recheckAfterMs ?? 1000;
    if (!Number.isSafeInteger(max) || max < 1) throw new UsageError("INVALID_ARGUMENT", "maxCachedSubjects must be a positive integer");
    if (!Number.isFinite(recheck) || recheck < 0) throw new UsageError("INVALID_ARGUMENT", "recheckAfterMs must be >= 0");
    this.#ks = ks;
    this.#now = options.now ?? Date.now;
    this.#cache = new SubjectCache(ks, max, recheck, this.#now);
    ks.onClose(() => this.close());
  }

  /**
   * The subject's key for `purpose`, creating the subject on first use; `{ erased: true }`
   * if it was erased. A cached subject is answered without I/O; misses issued in the same
   * turn of the event loop (e.g. `Promise.all` over a batch) are looked up and created
   * together, in one transaction. For bulk work prefer {@link keys}.
   * @throws UsageError(INVALID_ARGUMENT), KeyError, KeystoreError, AuditError (creation is audited, fail closed)
   */
  key(namespace: string, subjectId: string, purpose: string): Promise<SubjectKeyResult> {
    try {
      this.#live();
      checkNamespace(namespace);
      checkSubjectId(subjectId);
      checkPurpose(purpose);
    } catch (e) {
      return Promise.reject(e);
    }
    const entry = this.#cache.fresh(namespace, subjectId);
    if (entry !== undefined) return Promise.resolve(this.#cache.result(entry, namespace, purpose));
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) setImmediate(() => void this.#drain());
      this.#queue.push({ ns: namespace, id: subjectId, purpose, resolve, reject });
    });
  }

  /**
   * Keys for many subjects at once: one read transaction for the uncached ones and one
   * write transaction (one fsync, one aggregate `subject.create` audit record) for all the
   * new ones. Duplicate ids are fine.
   * @throws as {@link key}
   */
  async keys(namespace: string, subjectIds: readonly string[], purpose: string): Promise<Map<string, SubjectKeyResult>> {
    this.#live();
    checkNamespace(namespace);
    checkPurpose(purpose);
    if (!isList(subjectIds)) throw new UsageError("INVALID_ARGUMENT", "subjectIds must be an array of strings");
    subjectIds.forEach(checkSubjectId);
    const ns = (await this.#cache.namespace(namespace, true)) as NsCache;
    this.#cache.recheck(ns, false);
    const misses = [...new Set(subjectIds.filter((id) => this.#cache.entryById(ns, id) === undefined))];
    if (misses.length > 0) this.#load(ns, misses);
    const out = new Map<string, SubjectKeyResult>();
    for (const id of subjectIds) {
      if (out.has(id)) continue;
      const entry = this.#cache.entryById(ns, id) as Entry;
      out.set(id, this.#cache.result(entry, namespace, purpose));
    }
    return out;
  }

  /**
   * The key named by a `keyId` and version found in a ciphertext, without the clear subject
   * id (reveal). `{ erased: true }` for an erased subject or an older, erased version.
   * @throws KeyError(KEY_NOT_FOUND) for an unknown namespace or subject, KEY_VERSION_NOT_FOUND
   *   for a version never made; UsageError(INVALID_ARGUMENT) for a malformed keyId.
   */
  async keyByRef(keyId: string, version: number, purpose: string): Promise<SubjectKeyResult> {
    this.#live();
    checkPurpose(purpose);
    const parsed = parseKeyId(keyId);
    if (parsed === null) throw new UsageError("INVALID_ARGUMENT", "a subject keyId is <namespace>:<22 base64url characters>");
    if (!Number.isSafeInteger(version) || version < 1) throw new UsageError("INVALID_ARGUMENT", "a subject key version is a positive integer");
    const ns = await this.#cache.namespace(parsed.ns, false);
    if (ns === null) throw new KeyError("KEY_NOT_FOUND", `no subject namespace "${parsed.ns}"`);
    this.#cache.recheck(ns, false);
    const b64 = parsed.ref.toString("base64url");
    let entry = this.#cache.entryByRef(ns, b64);
    if (entry === undefined || entry.version < version) {
      const row = this.#ks.readTables((db) => statements(db).current.get(ns.ns, parsed.ref));
      if (row === undefined) throw new KeyError("KEY_NOT_FOUND", `no subject ${keyId}`);
      entry = this.#cache.remember(ns, row, null);
    }
    if (version > entry.version) throw new KeyError("KEY_VERSION_NOT_FOUND", `subject ${keyId} has no version ${version}`);
    if (version < entry.version) return { erased: true, keyId }; // older versions exist only erased
    return this.#cache.result(entry, ns.ns, purpose);
  }

  /**
   * The key id (`<namespace>:<ref>`) `subjectId` has, or would have, in `namespace`, without
   * creating, unwrapping a subject secret or auditing anything beyond opening the namespace:
   * reveal and rewrap use it to check that a value sealed for a subject sits in that subject's
   * record (docs/fields.md, "Per-subject keys"). Null when the namespace does not exist.
   * @throws UsageError(INVALID_ARGUMENT) for a malformed namespace or subject id
   */
  async keyIdOf(namespace: string, subjectId: string): Promise<string | null> {
    this.#live();
    checkNamespace(namespace);
    checkSubjectId(subjectId);
    const ns = await this.#cache.namespace(namespace, false);
    if (ns === null) return null;
    return this.#cache.entryById(ns, subjectId)?.keyId ?? keyIdOf(namespace, subjectRef(ns.indexKey, subjectId));
  }

  /** A subject's namespace (created if new), index reference and key id, after the arguments are checked. */
  async #subject(namespace: string, subjectId: string): Promise<{ ns: NsCache; ref: Buffer; keyId: string }> {
    this.#live();
    checkNamespace(namespace);
    checkSubjectId(subjectId);
    const ns = (await this.#cache.namespace(namespace, true)) as NsCache;
    const ref = subjectRef(ns.indexKey, subjectId);
    return { ns, ref, keyId: keyIdOf(namespace, ref) };
  }

  /**
   * Erases a subject: NULLs its secret (every version), keeps a tombstone, truncates the
   * WAL, and records `subject.erase` (object `subject:<keyId>`) in the same transaction.
   * Idempotent; erasing a subject never seen leaves a tombstone, so its first use later
   * reports erased. Other processes see it within their `recheckAfterMs`.
   */
  async erase(namespace: string, subjectId: string): Promise<EraseResult> {
    const { ns, ref, keyId } = await this.#subject(namespace, subjectId);
    const event = { operation: "subject.erase", keyName: ns.keyName, objectPath: `subject:${keyId}`, context: { namespace } };
    const done = this.#ks.auditedChange(event, (db) => {
      const st = statements(db);
      const now = this.#now();
      const before = st.eraseGen.get(namespace) as number;
      const current = st.current.get(namespace, ref);
      let changed: number;
      if (current === undefined) changed = st.insertTombstone.run(namespace, ref, now, now).changes;
      else changed = st.erase.run(now, namespace, ref).changes;
      if (changed > 0) st.bumpGen.run(namespace);
      return { alreadyErased: changed === 0, before, after: changed > 0 ? before + 1 : before };
    });
    this.#cache.forget(ns, ref.toString("base64url"));
    this.#cache.ownErasure(ns, done.before, done.after); // our own erasure: no need to drop the rest of the cache
    return { keyId, alreadyErased: done.alreadyErased, walTruncated: this.#ks.truncateWal() };
  }

  /**
   * Gives an erased subject a new key (version + 1), audited as `subject.recreate`. Data
   * sealed under the erased versions stays unreadable.
   * @throws KeyError(KEY_NOT_FOUND) if the subject has no key or tombstone; KeyError(KEY_STATE_CONFLICT) unless it is erased.
   */
  async recreate(namespace: string, subjectId: string): Promise<{ keyId: string; version: number }> {
    const { ns, ref, keyId } = await this.#subject(namespace, subjectId);
    const version = this.#ks.auditedChange(
      { operation: "subject.recreate", keyName: ns.keyName, objectPath: `subject:${keyId}`, context: { namespace } },
      (db) => {
        const st = statements(db);
        const current = st.current.get(namespace, ref);
        if (current === undefined) throw new KeyError("KEY_NOT_FOUND", `subject ${keyId} has no key; its first use creates one`);
        if (current.state !== "erased") throw new KeyError("KEY_STATE_CONFLICT", `subject ${keyId} is not erased; nothing to recreate`);
        const v = current.version + 1;
        const secret = newSecret();
        try {
          st.insert.run(namespace, ref, v, sealSecret(ns.wrapKey, namespace, ref, v, secret), this.#now());
        } finally {
          secret.fill(0);
        }
        return v;
      },
    );
    this.#cache.forget(ns, ref.toString("base64url"));
    return { keyId, version };
  }

  /** A subject's state; never creates anything (an unknown namespace gives state "unknown", keyId null). */
  async status(namespace: string, subjectId: string): Promise<SubjectStatus> {
    this.#live();
    checkNamespace(namespace);
    checkSubjectId(subjectId);
    const ns = await this.#cache.namespace(namespace, false);
    if (ns === null) return { namespace, keyId: null, state: "unknown", version: null, createdAt: null, erasedAt: null };
    const ref = subjectRef(ns.indexKey, subjectId);
    const row = this.#ks.readTables((db) => statements(db).current.get(namespace, ref));
    const keyId = keyIdOf(namespace, ref);
    if (row === undefined) return { namespace, keyId, state: "unknown", version: null, createdAt: null, erasedAt: null };
    return { namespace, keyId, state: row.state, version: row.version, createdAt: row.created_at, erasedAt: row.erased_at };
  }

  /** Counts per namespace (all namespaces without `namespace`). Reads only; no unwrap, no subject ids. */
  summary(namespace?: string, options: { refs?: boolean } = {}): NamespaceSummary[] {
    this.#live();
    if (namespace !== undefined) checkNamespace(namespace);
    return this.#ks.readTables((db) => {
      const st = statements(db);
      const rows = namespace === undefined ? st.namespaces.all() : [st.namespace.get(namespace)].filter((r) => r !== undefined);
      return rows.map((row) => {
        const counts = Object.fromEntries(st.counts.all(row.namespace).map((c) => [c.state, c.n]));
        const base = { namespace: row.namespace, keyName: row.key_name, active: counts.active ?? 0, erased: counts.erased ?? 0, createdAt: row.created_at };
        if (!options.refs) return base;
        const subjects = st.listCurrent.all(row.namespace).map((s) => ({
          keyId: keyIdOf(row.namespace, s.subject_ref),
          version: s.version,
          state: s.state,
          createdAt: s.created_at,
          erasedAt: s.erased_at,
        }));
        return { ...base, subjects };
      });
    });
  }

  /** Forces the next lookups of `namespace` to re-read its erasure counter (e.g. before each retrieval). */
  refresh(namespace: string): void {
    this.#cache.refresh(namespace);
  }

  /** Wipes every cached secret and derived key. Idempotent; run by the keystore's close. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.close();
    const pending = this.#queue.splice(0);
    for (const p of pending) p.reject(new UsageError("INVALID_ARGUMENT", "the subject key store is closed"));
  }

  get closed(): boolean {
    return this.#closed;
  }

  async #drain(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    const groups = new Map<string, Pending[]>();
    for (const p of batch) {
      const k = `${p.ns}\u0000${p.purpose}`;
      const g = groups.get(k);
      if (g === undefined) groups.set(k, [p]);
      else g.push(p);
    }
    for (const group of groups.values()) {
      const first = group[0];
      try {
        const results = await this.keys(
          first.ns,
          group.map((p) => p.id),
          first.purpose,
        );
        for (const p of group) p.resolve(results.get(p.id) as SubjectKeyResult);
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    }
  }

  /** Reads the uncached subjects, then creates the missing ones in one audited transaction. */
  #load(ns: NsCache, ids: string[]): void {
    const refs = ids.map((id) => subjectRef(ns.indexKey, id));
    const missing: number[] = [];
    const found = this.#ks.readTables((db) => {
      const st = statements(db);
      return refs.map((ref, i) => {
        const row = st.current.get(ns.ns, ref);
        if (row === undefined) missing.push(i);
        return row;
      });
    });
    found.forEach((row, i) => row !== undefined && this.#cache.remember(ns, row, ids[i]));
    if (missing.length === 0) return;
    const event = { operation: "subject.create", keyName: ns.keyName, context: { namespace: ns.ns, subjects: String(missing.length) } };
    const made = this.#ks.auditedChange(event, (db) => {
      const st = statements(db);
      const now = this.#now();
      return missing.map((i) => {
        const ref = refs[i];
        const raced = st.current.get(ns.ns, ref); // another process may have made it meanwhile
        if (raced !== undefined) return raced;
        const secret = newSecret();
        try {
          const blob = sealSecret(ns.wrapKey, ns.ns, ref, 1, secret);
          st.insert.run(ns.ns, ref, 1, blob, now);
          return { namespace: ns.ns, subject_ref: ref, version: 1, state: "active", secret: blob, created_at: now, erased_at: null } satisfies SubjectRow;
        } finally {
          secret.fill(0);
        }
      });
    });
    made.forEach((row, j) => this.#cache.remember(ns, row, ids[missing[j]]));
  }

  #live(): void {
    if (this.#closed) throw new UsageError("INVALID_ARGUMENT", "the subject key store is closed (its keystore was closed)");
  }
}

const shared = new WeakMap<object, SubjectKeys>();

/** The shared {@link SubjectKeys} of a keystore handle (one cache per handle, wiped when it closes). */
export function subjectKeys(ks: SubjectKeyring, options?: SubjectKeysOptions): SubjectKeys {
  const existing = shared.get(ks);
  if (existing !== undefined && !existing.closed) return existing;
  const made = new SubjectKeys(ks, options);
  shared.set(ks, made);
  return made;
}

/**
 * The key of `subjectId` in `namespace` for `purpose` (e.g. a policy's field path), created
 * on first use; `{ erased: true, keyId }` once the subject was erased.
 * @example
 * const r = await subjectKey(ks, "customers", record.customer_id, "fields/email");
 * if (isErased(r)) writeMarker(); else { seal(r.key, …, r.keyId, r.version); r.key.fill(0); }
 * @throws UsageError(INVALID_ARGUMENT), KeyError, KeystoreError, AuditError
 */
export function subjectKey(ks: SubjectKeyring, namespace: string, subjectId: string, purpose: string): Promise<SubjectKeyResult> {
  return subjectKeys(ks).key(namespace, subjectId, purpose);
}
