/**
 * Field keys (src/fields) derived from a version's KEK, and the per-handle cache that keeps
 * them until close or until their key's state changes. Split from keystore.ts: derivation and
 * its cache are one idea, apart from the handle's lifecycle.
 */
import { hkdfSync } from "node:crypto";
import { KeyError, UsageError, auditOutcomeOf, isPipesealError } from "../errors.js";
import type { AuditObject } from "./keyring.js";
import { auditableName, validateKeyName } from "./names.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { requireKey, requireVersion } from "./rows.js";
import type { StoreContext } from "./store-context.js";

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
    if (this.#keys.size === 0) this.#onFill(() => {
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

/** The body of `LocalKeystore.deriveFieldKey`, whose TSDoc is the contract. */
export function deriveFieldKey(ctx: StoreContext, cache: FieldKeyCache, keyName: string, version: number | "primary", purpose: string, object: AuditObject, length: number): { key: Buffer; version: number } {
  validateKeyName(keyName);
  const operation = object?.operation;
  if (typeof operation !== "string" || !/^[a-z][a-z0-9-]{0,31}$/.test(operation) || operation === "init" || operation === "rewrap") {
    throw new UsageError("INVALID_ARGUMENT", "object.operation must be a data-access operation such as \"field-reveal\"");
  }
  if (typeof purpose !== "string" || !/^[a-z0-9][a-z0-9.:-]{0,63}$/.test(purpose)) throw new UsageError("INVALID_ARGUMENT", "invalid field-key purpose");
  if (!Number.isInteger(length) || length < 32 || length > 64) throw new UsageError("INVALID_ARGUMENT", "a field key is 32 to 64 bytes");
  const event = { operation, principal: ctx.principal, keyName: auditableName(keyName), keyVersion: typeof version === "number" ? version : null, objectPath: typeof object.path === "string" ? object.path : null, context: { purpose } };
  let v = 0;
  let kek: Buffer;
  try {
    const key = requireKey(ctx, keyName);
    v = version === "primary" ? key.primary_version : version;
    const cached = cache.get(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`);
    if (cached) return { key: Buffer.from(cached), version: v };
    const row = requireVersion(ctx, key, v);
    // the same state rules as unwrap (unwrap.ts openEntry)
    if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${keyName} v${v} was destroyed`);
    if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${keyName} v${v} is disabled`);
    if (v < key.min_decrypt_version) throw new KeyError("KEY_BELOW_MIN_VERSION", `${keyName} v${v} is below the minimum decryption version ${key.min_decrypt_version}`);
    kek = ctx.master.openKek(keyName, v, row.kek);
  } catch (e) {
    recordBestEffort(ctx, { ...event, keyVersion: v || event.keyVersion, outcome: auditOutcomeOf(e), errorCode: isPipesealError(e) ? e.code : "INTERNAL" });
    throw e;
  }
  const derived = Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), Buffer.concat([Buffer.from("pipeseal-field-v1"), Buffer.from(purpose)]), length));
  kek.fill(0);
  try {
    recordOrFail(ctx, { ...event, keyVersion: v, outcome: "ok" }); // fail closed: no record, no key
  } catch (e) {
    derived.fill(0);
    throw e;
  }
  cache.set(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`, derived);
  return { key: Buffer.from(derived), version: v };
}
