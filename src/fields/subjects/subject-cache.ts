/**
 * The in-memory side of per-subject keys (subject-keys.ts holds the operations): opened
 * namespaces, each subject's opened secret and the keys derived from it, eviction of the
 * oldest subjects, and the erasure re-check that drops a namespace's cache once another
 * handle or process erased a subject in it (the namespace's erasure counter moved).
 *
 * Security guarantees: a cached secret or derived key is wiped (zero-filled) when its subject
 * is evicted, forgotten after a change, dropped by a re-check, or when the cache closes; no
 * cached key is served more than `recheckAfterMs` after another handle's erasure.
 */
import { UsageError } from "../../errors.js";
import { deriveSubjectKey, keyIdOf, openSecret } from "./derive.js";
import { type OpenNamespace, openNamespace, wipeNamespace } from "./namespace.js";
import { type SubjectRow, statements } from "./rows.js";
import type { SubjectKeyResult, SubjectKeyring } from "./types.js";

export interface Entry {
  readonly ref: Buffer;
  readonly keyId: string;
  readonly version: number;
  /** null once erased. */
  secret: Buffer | null;
  id: string | null;
  readonly derived: Map<string, Buffer>;
}

export interface NsCache extends OpenNamespace {
  /** base64url ref -> entry, oldest first (eviction order). */
  readonly byRef: Map<string, Entry>;
  /** subject id -> base64url ref, so a cached subject costs no HMAC. */
  readonly byId: Map<string, string>;
}

export class SubjectCache {
  readonly #ks: SubjectKeyring;
  readonly #max: number;
  readonly #recheckMs: number;
  readonly #now: () => number;
  readonly #ready = new Map<string, NsCache>();
  readonly #opening = new Map<string, Promise<NsCache | null>>();
  #closed = false;

  constructor(ks: SubjectKeyring, max: number, recheckMs: number, now: () => number) {
    this.#ks = ks;
    this.#max = max;
    this.#recheckMs = recheckMs;
    this.#now = now;
  }

  /** A cached subject's entry, without I/O, if its namespace was re-checked within `recheckAfterMs`. */
  fresh(namespace: string, subjectId: string): Entry | undefined {
    const ns = this.#ready.get(namespace);
    if (ns === undefined || this.#now() - ns.checkedAt >= this.#recheckMs) return undefined;
    return this.entryById(ns, subjectId);
  }

  /** A subject's entry if cached, found by its clear id (so a cached subject costs no HMAC). */
  entryById(ns: NsCache, subjectId: string): Entry | undefined {
    const ref = ns.byId.get(subjectId);
    return ref === undefined ? undefined : ns.byRef.get(ref);
  }

  /** A subject's entry if cached, found by its base64url ref (reveal knows only the ref). */
  entryByRef(ns: NsCache, b64: string): Entry | undefined {
    return ns.byRef.get(b64);
  }

  /** The namespace's cache, opening (and with `create`, creating) it once however many ask at a time; null if it does not exist. */
  async namespace(namespace: string, create: boolean): Promise<NsCache | null> {
    const ready = this.#ready.get(namespace);
    if (ready !== undefined) return ready;
    const k = `${create}:${namespace}`;
    let opening = this.#opening.get(k);
    if (opening === undefined) {
      opening = openNamespace(this.#ks, namespace, create, this.#now).then((open) => {
        if (open === null) return null;
        const already = this.#ready.get(namespace);
        if (already !== undefined || this.#closed) {
          wipeNamespace(open);
          return already ?? null;
        }
        const ns: NsCache = { ...open, byRef: new Map(), byId: new Map() };
        this.#ready.set(namespace, ns);
        return ns;
      });
      this.#opening.set(k, opening);
      void opening.finally(() => this.#opening.delete(k)).catch(() => undefined);
    }
    const ns = await opening;
    if (this.#closed) throw new UsageError("INVALID_ARGUMENT", "the subject key store is closed (its keystore was closed)");
    return ns;
  }

  /** Drops the whole namespace cache if another handle erased a subject since the last check (always reads with `force`). */
  recheck(ns: NsCache, force: boolean): void {
    const now = this.#now();
    if (!force && now - ns.checkedAt < this.#recheckMs) return;
    const gen = this.#ks.readTables((db) => statements(db).eraseGen.get(ns.ns));
    if (gen !== ns.gen) {
      for (const entry of ns.byRef.values()) wipeEntry(entry);
      ns.byRef.clear();
      ns.byId.clear();
      ns.gen = gen as number;
    }
    ns.checkedAt = now;
  }

  /** Forces the next lookups of an open namespace to re-read its erasure counter. */
  refresh(namespace: string): void {
    const ns = this.#ready.get(namespace);
    if (ns !== undefined) this.recheck(ns, true);
  }

  /** This handle's own erasure moved the counter from `before` to `after`: the rest of the cache stays valid. */
  ownErasure(ns: NsCache, before: number, after: number): void {
    if (before === ns.gen) ns.gen = after;
  }

  /** Caches a row (opening its sealed secret) under its ref and, when known, the subject id. */
  remember(ns: NsCache, row: SubjectRow, id: string | null): Entry {
    const b64 = row.subject_ref.toString("base64url");
    const old = ns.byRef.get(b64);
    if (old !== undefined && old.version === row.version && (old.secret === null) === (row.secret === null)) {
      if (id !== null) {
        old.id = id;
        ns.byId.set(id, b64);
      }
      return old;
    }
    if (old !== undefined) this.forget(ns, b64);
    const secret = row.secret === null ? null : openSecret(ns.wrapKey, ns.ns, row.subject_ref, row.version, row.secret);
    const entry: Entry = { ref: Buffer.from(row.subject_ref), keyId: keyIdOf(ns.ns, row.subject_ref), version: row.version, secret, id, derived: new Map() };
    ns.byRef.set(b64, entry);
    if (id !== null) ns.byId.set(id, b64);
    if (ns.byRef.size > this.#max) {
      const oldest = ns.byRef.keys().next().value as string;
      this.forget(ns, oldest);
    }
    return entry;
  }

  /** Drops one subject (by base64url ref) and wipes its secret and derived keys. */
  forget(ns: NsCache, b64: string): void {
    const entry = ns.byRef.get(b64);
    if (entry === undefined) return;
    ns.byRef.delete(b64);
    if (entry.id !== null) ns.byId.delete(entry.id);
    wipeEntry(entry);
  }

  /** The entry's key for `purpose` (a copy: the caller may wipe it), derived once per entry; `{ erased }` without a secret. */
  result(entry: Entry, namespace: string, purpose: string): SubjectKeyResult {
    if (entry.secret === null) return { erased: true, keyId: entry.keyId };
    let key = entry.derived.get(purpose);
    if (key === undefined) {
      key = deriveSubjectKey(entry.secret, namespace, purpose);
      entry.derived.set(purpose, key);
    }
    return { key: Buffer.from(key), version: entry.version, keyId: entry.keyId };
  }

  /** Wipes every cached secret, derived key and namespace key. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const ns of this.#ready.values()) {
      for (const entry of ns.byRef.values()) wipeEntry(entry);
      ns.byRef.clear();
      ns.byId.clear();
      wipeNamespace(ns);
    }
    this.#ready.clear();
  }
}

function wipeEntry(entry: Entry): void {
  entry.secret?.fill(0);
  entry.secret = null;
  for (const k of entry.derived.values()) k.fill(0);
  entry.derived.clear();
}
