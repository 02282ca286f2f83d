/**
 * The `tokenize` action: FF1 format-preserving tokens (NIST SP 800-38G Rev. 1, through
 * crypto/ff1-tokens.ts, which redaction's tokenize operator uses too), tweaked by the field's
 * schema path. A keyed permutation of same-shaped strings: leaks the shape, kept characters
 * and equality; no integrity (an altered token reveals to a different plausible value).
 */
import { tokenValue } from "../../crypto/ff1-tokens.js";
import type { FieldKey } from "../keys.js";
import type { FieldRule } from "../policy.js";

type Where = { row: number; field: string };

function token(key: FieldKey, rule: FieldRule, schemaPath: string, value: unknown, enc: boolean, where: Where): string | number | bigint {
  const radix = rule.alphabet === "digits" || typeof value !== "string" ? 10 : rule.alphabet === "lower" ? 36 : 62;
  return tokenValue(key.ff1(radix), rule, Buffer.from(schemaPath, "utf8"), value, enc, where);
}

/** The token of a clear value. @throws FieldError(INVALID_ARGUMENT) for a value of another shape */
export function apply(key: FieldKey, rule: FieldRule, schemaPath: string, value: unknown, where: Where): string | number | bigint {
  return token(key, rule, schemaPath, value, true, where);
}

/** The clear value of a token. */
export function reveal(key: FieldKey, rule: FieldRule, schemaPath: string, value: unknown, where: Where): string | number | bigint {
  return token(key, rule, schemaPath, value, false, where);
}

/** A token under `from` re-tokenized under `to`, with the clear value between (for anchors). */
export function rewrap(from: FieldKey, to: FieldKey, rule: FieldRule, schemaPath: string, value: unknown, where: Where): { clear: string | number | bigint; token: string | number | bigint } {
  const clear = reveal(from, rule, schemaPath, value, where);
  return { clear, token: apply(to, rule, schemaPath, clear, where) };
}
