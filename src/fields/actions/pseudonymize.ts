/**
 * The `pseudonymize` action: HMAC-SHA-256, base64url, truncated (keys.ts `pseudonym`).
 * Irreversible, so it has no reveal or rewrap: a pseudonym stays what it is. Leaks equality.
 */
import { FieldError } from "../errors.js";
import { type FieldKey, pseudonym } from "../keys.js";
import type { FieldRule } from "../policy.js";

/** The pseudonym of a scalar value. @throws FieldError(INVALID_ARGUMENT) for objects, lists, null */
export function apply(key: FieldKey, rule: Pick<FieldRule, "length" | "prefix">, value: unknown, where: { row: number; field: string }): string {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint" && typeof value !== "boolean") throw new FieldError("INVALID_ARGUMENT", "cannot pseudonymize this value", where);
  return pseudonym(key, String(value), rule.length, rule.prefix);
}
