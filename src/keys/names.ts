import { UsageError } from "../errors.js";

/** Key names: lowercase, digits and `._/-`, starting with a letter or digit, at most 128 characters. */
export const KEY_NAME_PATTERN = /^[a-z0-9][a-z0-9._/-]{0,127}$/;

/** @throws UsageError(INVALID_ARGUMENT) unless `name` matches {@link KEY_NAME_PATTERN}. */
export function validateKeyName(name: unknown): string {
  if (typeof name !== "string" || !KEY_NAME_PATTERN.test(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new UsageError("INVALID_ARGUMENT", `invalid key name ${shown}: use 1-128 characters of a-z 0-9 . _ / -, starting with a letter or digit`);
  }
  return name;
}

/** Versions are u32 in the wrap format's AAD. */
export const MAX_KEY_VERSION = 0xffffffff;

/** @throws UsageError(INVALID_ARGUMENT) unless `v` is an integer in 1..2^32-1. */
export function validateVersion(v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1 || v > MAX_KEY_VERSION) {
    throw new UsageError("INVALID_ARGUMENT", "a key version must be an integer in 1..4294967295");
  }
  return v;
}

/** The name to put in an audit record: the name if valid, else null (never log junk input). */
export function auditableName(name: unknown): string | null {
  return typeof name === "string" && KEY_NAME_PATTERN.test(name) ? name : null;
}

/** The version to put in an audit record: the version if valid, else null. */
export function auditableVersion(v: unknown): number | null {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 1 && v <= MAX_KEY_VERSION ? v : null;
}

/** Data-access operations a caller may record on an unwrap or a derivation; "init" and "rewrap" are the stores' own. */
const DATA_OPERATION = /^[a-z][a-z0-9-]{0,31}$/;
const RESERVED_OPERATIONS = new Set(["init", "rewrap"]);

/**
 * The caller's `object.operation`, checked (every store takes the same names).
 * @param example named in the error, e.g. "unwrap", "decrypt" or "range-read"
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function dataOperation(object: { readonly operation?: unknown } | undefined, example: string, allowRewrap = false): string {
  const operation = object?.operation;
  if (typeof operation !== "string" || !DATA_OPERATION.test(operation) || (RESERVED_OPERATIONS.has(operation) && !(allowRewrap && operation === "rewrap"))) {
    throw new UsageError("INVALID_ARGUMENT", `object.operation must be a data-access operation such as ${example}`);
  }
  return operation;
}
