/**
 * The Keyring: the one seam between code that encrypts and wherever keys live
 * (the local keystore, the key service, an HSM). Code above it never sees a KEK.
 */

import type { EntryBinding, EntryTarget } from "./key-block.js";

export type { EntryBinding, EntryTarget } from "./key-block.js";

/** Encryption context: key=value pairs bound as associated data everywhere. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A data key wrapped under one version of a named key. Stored in a sealed-file header. */
export interface WrappedKey {
  /** Which keyring wrapped it, e.g. "local". */
  readonly keyring: string;
  readonly keyName: string;
  readonly keyVersion: number;
  /** Opaque to callers; the keyring's own wrap format. */
  readonly wrapped: Uint8Array;
  /** Sealed file v2: the entry's key-block tag (docs/format.md §6), made by whoever held the data key. */
  readonly tag?: Uint8Array;
  /**
   * Sealed file v2: where the entry sits (its file and key block), as the reader found it.
   * Present, the keyring opens the entry with the v2 wrap AAD and checks every entry's tag
   * before it releases or rewraps the key; absent, the entry is a v1 wrap.
   */
  readonly binding?: EntryBinding;
}

/** What an unwrap is for, so the audit record can name it. */
export interface AuditObject {
  /** e.g. "decrypt", "range-read", "rewrap" */
  readonly operation: string;
  /** Path or other locator of the sealed object, if known. */
  readonly path?: string;
  /** Hex SHA-256 of the sealed header's bytes. */
  readonly headerHash?: string;
}

/**
 * Contract:
 * - `wrap` uses the key's primary version; throws KeyError (KEY_NOT_FOUND, KEY_DISABLED, KEY_USAGE_LIMIT).
 *   With `objectId` it makes a v2 wrap bound to that file (docs/format.md §5).
 * - An entry with a `binding` (sealed file v2) is opened with the v2 AAD (its object id), and the
 *   whole key block is checked (key-block.ts) before anything is released or rewrapped: a
 *   tampered block throws PipesealError(KEY_BLOCK_INVALID), recorded as an `error`, never `ok`.
 *   The audit record's header hash is then the binding's object id, which the unwrap proves.
 * - `unwrap` writes an audit record *before* returning key material; if the record cannot be
 *   written it throws AuditError(AUDIT_WRITE_FAILED) and returns nothing (fail closed).
 *   A wrong context or forged entry throws DecryptError; a disabled, destroyed or below-minimum
 *   version throws KeyError with the matching code. The caller owns and must wipe the returned buffer.
 * - `rewrap` moves a wrapped key to the primary version without returning the data key; audited.
 *   A v2 entry comes back with its new tag (same object id, position and count). With `upgrade`
 *   a v1 entry (no binding) becomes a v2 entry for that file and position (`rewrap --upgrade`).
 * - `deriveFieldKey` returns a stable secret for field-level protection (src/fields): the same
 *   (key, version, purpose, length) always gives the same bytes, so deterministic encryption and
 *   tokens repeat across runs. It is audited like an unwrap (same state rules: KEY_DISABLED,
 *   KEY_DESTROYED, KEY_BELOW_MIN_VERSION), but once per handle and (key, version, purpose), not
 *   per value: the keyring caches derived keys for the life of the handle and wipes them on close.
 *   The returned buffer is the caller's copy (wipe it when done).
 * - `reportFailure` (optional) records that an operation for which `unwrap` released a data key
 *   then failed (DecryptError on a truncated or altered body, a range outside the plaintext, a
 *   released key that does not open the file): a second record, outcome "error" with
 *   `errorCode`, for the same key version, object and header hash. A success needs none, so
 *   an "ok" unwrap record means "the key was released", and "ok" without a following "error"
 *   means the operation completed. Callers treat it as best effort (the operation is failing).
 */
export interface Keyring {
  readonly id: string;
  /**
   * Other ids this keyring also opens entries of (optional): a key service's client also
   * serves the entries that older clients recorded under a URL-host id (`ks:127.0.0.1`).
   * New entries always record `id`.
   */
  readonly aliases?: readonly string[];
  wrap(keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey>;
  unwrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<Buffer>;
  rewrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey>;
  /**
   * @param version a version number, or "primary" (resolved now; the result names it).
   * @param purpose `[a-z0-9][a-z0-9.:-]{0,63}`, e.g. "encrypt", "deterministic", "tokenize".
   * @param length 32 (default) to 64 bytes.
   */
  deriveFieldKey(
    keyName: string,
    version: number | "primary",
    purpose: string,
    object: AuditObject,
    length?: number,
  ): Promise<{ key: Buffer; version: number }>;
  /** @param errorCode the failure's stable code (docs/errors.md), e.g. "DECRYPT_FAILED". */
  reportFailure?(entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void>;
}

/** Whether `keyring` can serve an entry recorded under keyring id `id` (its own, or an alias). */
export function servesEntry(keyring: Pick<Keyring, "id" | "aliases">, id: string): boolean {
  return id === keyring.id || (keyring.aliases?.includes(id) ?? false);
}

/** A KEYRING_MISMATCH message: which keyrings wrapped the entries, and, locally, how to reach a key service's. */
export function mismatchMessage(keyring: Pick<Keyring, "id">, recorded: readonly string[]): string {
  const named = [...new Set(recorded)].join(", ");
  const viaService = keyring.id === "local" && recorded.some((k) => k.startsWith("ks:"));
  return `the file's data key is wrapped by keyring(s) ${named}, not "${keyring.id}"${viaService ? "; it was sealed through a key service: give --server URL --cert DIR before the command" : ""}`;
}
