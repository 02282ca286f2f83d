/**
 * The `mask` action: letters and digits become the rule's `char`, except `keepFirst`/`keepLast`
 * characters and, with `preserve: email-domain`, the e-mail domain. Keyless and irreversible,
 * so it has no reveal or rewrap.
 */
import { FieldError } from "../errors.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import type { ApplyScope, Where } from "./action.js";

/** The masked text of a scalar value (public as `mask`). @throws FieldError(INVALID_ARGUMENT) for objects, lists, null */
export function mask(value: unknown, rule: Pick<FieldRule, "keepFirst" | "keepLast" | "preserve" | "char">, where: { row?: number; field?: string }): string {
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint" && typeof value !== "boolean")
    throw new FieldError("INVALID_ARGUMENT", "cannot mask this value", where);
  const chars = [...String(value)];
  let end = chars.length;
  if (rule.preserve === "email-domain") {
    const at = chars.lastIndexOf("@");
    if (at >= 0) end = at;
  }
  const idx: number[] = [];
  for (let i = 0; i < end; i++) if (/[\p{L}\p{N}]/u.test(chars[i])) idx.push(i);
  const masked = idx.slice(rule.keepFirst, Math.max(rule.keepFirst, idx.length - rule.keepLast));
  for (const i of masked) chars[i] = rule.char;
  return chars.join("");
}

/** `mask` as an action of a policy rule. */
export function apply(_scope: ApplyScope, rule: FieldRule, _match: FieldMatch, value: unknown, where: Where): string {
  return mask(value, rule, where);
}
