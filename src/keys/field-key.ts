/**
 * Field keys (src/fields) derived from a version's KEK, and the per-handle cache that keeps
 * them until close or until their key's state changes. Split from keystore.ts: derivation and
 * its cache are one idea, apart from the handle's lifecycle.
 */
import { hkdfSync } from "node:crypto";
import type { AuditEvent } from "../audit/types.js";
import { UsageError, auditOutcomeOf, isPipesealError } from "../errors.js";
import type { AuditObject } from "./keyring.js";
import { dataOperation, validateKeyName, validateVersion } from "./names.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { requireKey, requireVersion } from "./rows.js";
import type { StoreContext } from "./store-context.js";
import { kekForDecrypt } from "./version-rules.js";

const FIELD_KEY_INFO = Buffer.from("pipeseal-field-v1");
/** Named in the error for a bad `object.operation` of a derivation. */
export const FIELD_OPERATIONS = '"field-reveal"';

/**
 * The field key of one KEK and purpose, for every store: HKDF-SHA-256 (RFC 5869), empty salt,
 * info = "pipeseal-field-v1" || purpose. Pinned by a known-answer test (test/keys/field-key-kat.test.ts).
 */
export function fieldKeyFromKek(kek: Uint8Array, purpose: string, length: number): Buffer {
  return Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), Buffer.concat([FIELD_KEY_INFO, Buffer.from(purpose)]), length));
}

/**
 * One handle's derived field keys, by (key, version, purpose, length, operation). Each time it
 * goes from empty to holding a key it hands `onFill` a wipe for the handle to run at close, so
 * a handle that never derives registers nothing.
 */
export class FieldKeyCache {
  readonly #keys = new Map<string, Buffer>();
  readonly #onFill: (wipe: () => void) => void;

  constructor(onFill: (wipe: () => void) => void) {
    this.#onFill = onFill;
  }

  get(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  set(id: string, key: Buffer): void {
    if (this.#keys.size === 0)
      this.#onFill(() => {
        this.#keys.forEach((k) => k.fill(0));
        this.#keys.clear();
      });
    this.#keys.set(id, key);
  }

  /** Wipes and forgets every cached key of `name` (a state change must not leave one usable). */
  drop(name: string): void {
    for (const [id, key] of this.#keys) {
      if (id.startsWith(`${name}\0`)) {
        key.fill(0);
        this.#keys.delete(id);
      }
    }
  }
}

/** A field-key derivation, as every store is asked for one. */
export interface DeriveRequest {
  readonly principal: string;
  readonly keyName: string;
  readonly version: number | "primary";
  readonly purpose: string;
  readonly object: AuditObject;
  readonly length: number;
}

/**
 * The `ok` record of a derivation once its request is valid (every store); its key version is
 * null for "primary" until the store has read which version that is.
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function deriveEvent(r: DeriveRequest): AuditEvent & { readonly operation: string } {
  validateKeyName(r.keyName);
  const operation = dataOperation(r.object, FIELD_OPERATIONS);
  if (typeof r.purpose !== "string" || !/^[a-z0-9][a-z0-9.:-]{0,63}$/.test(r.purpose)) throw new UsageError("INVALID_ARGUMENT", "invalid field-key purpose");
  if (!Number.isInteger(r.length) || r.length < 32 || r.length > 64) throw new UsageError("INVALID_ARGUMENT", "a field key is 32 to 64 bytes");
  if (r.version !== "primary") validateVersion(r.version);
  return {
    operation,
    principal: r.principal,
    outcome: "ok",
    keyName: r.keyName,
    keyVersion: r.version === "primary" ? null : r.version,
    objectPath: typeof r.object.path === "string" ? r.object.path : null,
    context: { purpose: r.purpose },
  };
}

/** The body of `LocalKeystore.deriveFieldKey`, whose TSDoc is the contract. */
export function deriveFieldKey(
  ctx: StoreContext,
  cache: FieldKeyCache,
  keyName: string,
  version: number | "primary",
  purpose: string,
  object: AuditObject,
  length: number,
): { key: Buffer; version: number } {
  const event = deriveEvent({ principal: ctx.principal, keyName, version, purpose, object, length });
  const operation = event.operation;
  let v = 0;
  let kek: Buffer;
  try {
    const key = requireKey(ctx, keyName);
    v = version === "primary" ? key.primary_version : version;
    const cached = cache.get(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`);
    if (cached) return { key: Buffer.from(cached), version: v };
    const row = requireVersion(ctx, key, v);
    kek = ctx.master.openKek(keyName, v, kekForDecrypt(keyName, key, row)); // the same state rules as unwrap
  } catch (e) {
    recordBestEffort(ctx, { ...event, keyVersion: v || event.keyVersion, outcome: auditOutcomeOf(e), errorCode: isPipesealError(e) ? e.code : "INTERNAL" });
    throw e;
  }
  const derived = fieldKeyFromKek(kek, purpose, length);
  kek.fill(0);
  try {
    recordOrFail(ctx, { ...event, keyVersion: v }); // fail closed: no record, no key
  } catch (e) {
    derived.fill(0);
    throw e;
  }
  cache.set(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`, derived);
  return { key: Buffer.from(derived), version: v };
}
