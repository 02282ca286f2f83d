/**
 * Values every section reads the same way: one-or-a-list, operations with `"*"`, and the
 * identity and key patterns, compiled here because the schema only knows they are strings.
 */
import type { YamlDocument, YamlPath } from "../../../io/yaml-schema.js";
import { type Operation, OPERATIONS } from "../operations.js";
import { compileIdentityPattern, compileKeyPattern, identityPatternError, type IdentityPattern, keyPatternError, type KeyPattern } from "../patterns.js";
import type { PolicyFile, StrList } from "../schema.js";

export type PolicyDocument = YamlDocument<PolicyFile>;

/** Each item with its path: a single string is at `path` itself, a list's items at `[...path, i]`. */
export function items(path: YamlPath, v: StrList): { value: string; path: YamlPath }[] {
  return typeof v === "string" ? [{ value: v, path }] : v.map((value, i) => ({ value, path: [...path, i] }));
}

/** The operations named (the schema has checked each): `"*"` is every operation. */
export function operationsOf(v: StrList): Operation[] {
  if (v === "*") return [...OPERATIONS];
  return (typeof v === "string" ? [v] : v) as Operation[];
}

export function identityPatterns(doc: PolicyDocument, path: YamlPath, v: StrList): IdentityPattern[] {
  return items(path, v).map(({ value, path: at }) => {
    const err = identityPatternError(value);
    if (err !== undefined) doc.fail(at, err);
    return compileIdentityPattern(value);
  });
}

export function keyPatterns(doc: PolicyDocument, path: YamlPath, v: StrList): KeyPattern[] {
  return items(path, v).map(({ value, path: at }) => {
    const err = keyPatternError(value);
    if (err !== undefined) doc.fail(at, err);
    return compileKeyPattern(value);
  });
}
