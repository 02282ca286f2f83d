/**
 * The `pseudonymize` action: HMAC-SHA-256, base64url, truncated (keys.ts `pseudonym`).
 * Irreversible, so it has no reveal or rewrap: a pseudonym stays what it is. Leaks equality.
 */
import { FieldError } from "../errors.js";
import { pseudonym } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import type { ApplyScope, Where } from "./action.js";

/** The pseudonym of a scalar value; the value is checked before any key is derived. @throws FieldError(INVALID_ARGUMENT) for objects, lists, null */
export async function apply(scope: ApplyScope, rule: FieldRule, _match: FieldMatch, value: unknown, where: Where): Promise<string> {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint" && typeof value !== "boolean")
    throw new FieldError("INVALID_ARGUMENT", "cannot pseudonymize this value", where);
  const key = await scope.keys.named(rule.key!, rule.version ?? "primary", "pseudonymize");
  return pseudonym(key, String(value), rule.length, rule.prefix);
}
