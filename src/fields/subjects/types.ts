/** Public types and input checks of per-subject keys. */
import { UsageError } from "../../errors.js";
import type { LocalKeystore } from "../../keys/keystore.js";

/** A subject's key for one purpose. The caller owns `key` (a copy) and should wipe it after use. */
export interface SubjectKey {
  /** 32 bytes, stable for (namespace, subject, purpose, version). */
  readonly key: Buffer;
  /** The subject key version: 1, or higher after an explicit {@link SubjectKeys.recreate}. */
  readonly version: number;
  /**
   * `<namespace>:<ref>`: the namespace and a keyed pseudonym of the subject (base64url of a
   * 16-byte HMAC-SHA-256 under the namespace's index key). Put it in ciphertext so reveal can
   * find the key with {@link SubjectKeys.keyByRef} without the clear subject id. It links the
   * records of one subject to each other, never to the subject's identity without the keystore.
   */
  readonly keyId: string;
}

/** The subject was erased (crypto-shredded): its key is gone for good. */
export interface ErasedSubject {
  readonly erased: true;
  readonly keyId: string;
}

export type SubjectKeyResult = SubjectKey | ErasedSubject;

export function isErased(r: SubjectKeyResult): r is ErasedSubject {
  return (r as ErasedSubject).erased === true;
}

/**
 * What per-subject keys need from a keyring: wrap/unwrap for the namespace root and the
 * capability-table access of the local keystore (the subject table lives in keystore.db, so
 * an erasure and its audit record commit together). {@link LocalKeystore} implements it.
 */
export type SubjectKeyring = Pick<LocalKeystore, "wrap" | "unwrap" | "createKey" | "auditedChange" | "readTables" | "truncateWal" | "onClose" | "principal">;

/** Namespaces: lowercase letters, digits, `_` and `-`, starting with a letter or digit, at most 64. */
export const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MAX_SUBJECT_ID_BYTES = 1024;
export const MAX_PURPOSE_BYTES = 256;

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkNamespace(ns: unknown): string {
  if (typeof ns !== "string" || !NAMESPACE_PATTERN.test(ns)) {
    throw new UsageError("INVALID_ARGUMENT", "a subject namespace is 1-64 characters of a-z 0-9 _ -, starting with a letter or digit");
  }
  return ns;
}

/**
 * A subject id is compared by its exact UTF-8 bytes (no trimming, case folding or Unicode
 * normalization: normalize upstream if your ids need it). Never echoed in errors.
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function checkSubjectId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || Buffer.byteLength(id, "utf8") > MAX_SUBJECT_ID_BYTES) {
    throw new UsageError("INVALID_ARGUMENT", `a subject id must be a non-empty string of at most ${MAX_SUBJECT_ID_BYTES} UTF-8 bytes`);
  }
  return id;
}

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkPurpose(purpose: unknown): string {
  if (typeof purpose !== "string" || purpose.length === 0 || Buffer.byteLength(purpose, "utf8") > MAX_PURPOSE_BYTES) {
    throw new UsageError("INVALID_ARGUMENT", `a subject key purpose must be a non-empty string of at most ${MAX_PURPOSE_BYTES} UTF-8 bytes`);
  }
  return purpose;
}

/** The keystore key whose versions wrap a namespace's root secret. */
export function namespaceKeyName(ns: string): string {
  return `subjects/${ns}`;
}

/** State of one subject as `status` reports it. */
export interface SubjectStatus {
  readonly namespace: string;
  /** null when the namespace does not exist (nothing to derive a ref with). */
  readonly keyId: string | null;
  readonly state: "active" | "erased" | "unknown";
  readonly version: number | null;
  /** Epoch ms. */
  readonly createdAt: number | null;
  /** Epoch ms, when erased. */
  readonly erasedAt: number | null;
}

/** Counts of a namespace (no subject ids, clear or hashed, unless `refs` was asked for). */
export interface NamespaceSummary {
  readonly namespace: string;
  readonly keyName: string;
  readonly active: number;
  readonly erased: number;
  readonly createdAt: number;
  /** Keyed pseudonyms (`keyId`s) with their state, only with `{ refs: true }`. */
  readonly subjects?: { keyId: string; version: number; state: "active" | "erased"; createdAt: number; erasedAt: number | null }[];
}
