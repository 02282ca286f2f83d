/** Row access for the subject tables of keystore.db (migration 3). Internal. */
import type Database from "better-sqlite3";
import type { Db } from "../../keys/db.js";

export interface NamespaceRow {
  namespace: string;
  keyring: string;
  key_name: string;
  key_version: number;
  wrapped_root: Buffer;
  erase_gen: number;
  created_at: number;
}

export interface SubjectRow {
  namespace: string;
  subject_ref: Buffer;
  version: number;
  state: "active" | "erased";
  secret: Buffer | null;
  created_at: number;
  erased_at: number | null;
}

/** Prepared statements, made once per database handle (hot path: lookups of many subjects). */
export function statements(db: Db): Statements {
  let s = cache.get(db);
  if (s === undefined) {
    s = prepareAll(db);
    cache.set(db, s);
  }
  return s;
}

type S<P extends unknown[], R = unknown> = Database.Statement<P, R>;
export interface Statements {
  namespace: S<[string], NamespaceRow>;
  namespaces: S<[], NamespaceRow>;
  eraseGen: S<[string], number>;
  bumpGen: S<[string]>;
  insertNamespace: S<[string, string, string, number, Buffer, number]>;
  current: S<[string, Buffer], SubjectRow>;
  version: S<[string, Buffer, number], SubjectRow>;
  insert: S<[string, Buffer, number, Buffer, number]>;
  insertTombstone: S<[string, Buffer, number, number]>;
  erase: S<[number, string, Buffer]>;
  listCurrent: S<[string], Pick<SubjectRow, "subject_ref" | "version" | "state" | "created_at" | "erased_at">>;
  counts: S<[string], { state: "active" | "erased"; n: number }>;
}
const cache = new WeakMap<Db, Statements>();

// "current" = the highest version of a subject; older versions are always erased (a new
// version is only made by an explicit recreate after erasure).
function prepareAll(db: Db): Statements {
  return {
    namespace: db.prepare<[string], NamespaceRow>("SELECT * FROM subject_namespaces WHERE namespace = ?"),
    namespaces: db.prepare<[], NamespaceRow>("SELECT * FROM subject_namespaces ORDER BY namespace"),
    eraseGen: db.prepare<[string], number>("SELECT erase_gen FROM subject_namespaces WHERE namespace = ?").pluck(),
    bumpGen: db.prepare<[string]>("UPDATE subject_namespaces SET erase_gen = erase_gen + 1 WHERE namespace = ?"),
    insertNamespace: db.prepare<[string, string, string, number, Buffer, number]>(
      "INSERT INTO subject_namespaces (namespace, keyring, key_name, key_version, wrapped_root, erase_gen, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
    ),
    current: db.prepare<[string, Buffer], SubjectRow>("SELECT * FROM subject_keys WHERE namespace = ? AND subject_ref = ? ORDER BY version DESC LIMIT 1"),
    version: db.prepare<[string, Buffer, number], SubjectRow>("SELECT * FROM subject_keys WHERE namespace = ? AND subject_ref = ? AND version = ?"),
    insert: db.prepare<[string, Buffer, number, Buffer, number]>(
      "INSERT INTO subject_keys (namespace, subject_ref, version, state, secret, created_at) VALUES (?, ?, ?, 'active', ?, ?)",
    ),
    insertTombstone: db.prepare<[string, Buffer, number, number]>(
      "INSERT INTO subject_keys (namespace, subject_ref, version, state, secret, created_at, erased_at) VALUES (?, ?, 1, 'erased', NULL, ?, ?)",
    ),
    erase: db.prepare<[number, string, Buffer]>(
      "UPDATE subject_keys SET state = 'erased', secret = NULL, erased_at = COALESCE(erased_at, ?) WHERE namespace = ? AND subject_ref = ? AND state = 'active'",
    ),
    listCurrent: db.prepare<[string], Pick<SubjectRow, "subject_ref" | "version" | "state" | "created_at" | "erased_at">>(
      "SELECT subject_ref, version, state, created_at, erased_at FROM subject_keys k WHERE namespace = ? AND version = (SELECT MAX(version) FROM subject_keys WHERE namespace = k.namespace AND subject_ref = k.subject_ref) ORDER BY subject_ref",
    ),
    counts: db.prepare<[string], { state: "active" | "erased"; n: number }>(
      "SELECT state, COUNT(*) AS n FROM subject_keys k WHERE namespace = ? AND version = (SELECT MAX(version) FROM subject_keys WHERE namespace = k.namespace AND subject_ref = k.subject_ref) GROUP BY state",
    ),
  };
}
