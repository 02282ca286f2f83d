/**
 * The `tokenize` action: FF1 format-preserving tokens (NIST SP 800-38G Rev. 1, through
 * crypto/ff1-tokens.ts, which redaction's tokenize operator uses too), tweaked by the field's
 * schema path. A keyed permutation of same-shaped strings: leaks the shape, kept characters
 * and equality; no integrity (an altered token reveals to a different plausible value).
 * A token does not name its key version, so the rule pins it: rewrap re-tokenizes from the
 * rule's `previousVersion` to its `version` (else the primary).
 */
import { tokenValue } from "../../crypto/ff1-tokens.js";
import type { FieldKey } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import type { ApplyScope, Reversed, ReverseScope, Where } from "./action.js";

type Token = string | number | bigint;

function token(key: FieldKey, rule: FieldRule, schemaPath: string, value: unknown, enc: boolean, where: Where): Token {
  const radix = rule.alphabet === "digits" || typeof value !== "string" ? 10 : rule.alphabet === "lower" ? 36 : 62;
  return tokenValue(key.ff1(radix), rule, Buffer.from(schemaPath, "utf8"), value, enc, where);
}

/** The key tokens of this rule are made with now. */
function currentKey(scope: ApplyScope, rule: FieldRule): Promise<FieldKey> {
  return scope.keys.named(rule.key!, rule.version ?? "primary", "tokenize");
}

/** The token of a clear value. @throws FieldError(INVALID_ARGUMENT) for a value of another shape */
export async function apply(scope: ApplyScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Token> {
  return token(await currentKey(scope, rule), rule, match.schemaPath, value, true, where);
}

/** The clear value of a token. */
export async function reveal(scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Token> {
  return token(await currentKey(scope, rule), rule, match.schemaPath, value, false, where);
}

/**
 * The token re-tokenized from the rule's `previousVersion` to its current key, unchanged when
 * the two are one version; without `previousVersion` the token stays, and an anchor is only
 * revealed for the fields after it.
 */
export async function rewrap(scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Reversed> {
  if (rule.previousVersion === undefined) {
    if (scope.isAnchor(match.path)) scope.revealed(match.path, await reveal(scope, rule, match, value, where));
    return "unchanged";
  }
  const from = await scope.keys.named(rule.key!, rule.previousVersion, "tokenize");
  const to = await currentKey(scope, rule);
  if (from.version === to.version) return "unchanged";
  const clear = token(from, rule, match.schemaPath, value, false, where);
  const moved = token(to, rule, match.schemaPath, clear, true, where);
  scope.revealed(match.path, clear);
  return { write: moved };
}

/** Reveals a token, or rewraps it. @throws FieldError */
export async function reverse(scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Reversed> {
  if (scope.rewrap) return rewrap(scope, rule, match, value, where);
  const clear = await reveal(scope, rule, match, value, where);
  scope.revealed(match.path, clear);
  return { write: clear };
}
