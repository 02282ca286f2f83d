/**
 * Field-level protection for records (JSON, JSONL, CSV, Parquet): randomized and deterministic
 * encryption, format-preserving tokens, keyed pseudonyms, masking (docs/fields.md).
 */
export { FieldError } from "./errors.js";
export { loadFieldPolicy, parseFieldPolicy, ACTIONS, ALPHABETS } from "./policy.js";
export type { FieldPolicy, FieldRule, FieldAction, AlphabetName } from "./policy.js";
export { compilePath, findMatches } from "./path.js";
export type { CompiledPath, FieldMatch } from "./path.js";
export { FieldProtector, ERASED_MARKER, mask } from "./protector.js";
export type { FieldOperation } from "./protector.js";
export type { FieldStats } from "./stats.js";
export { parseValue, formatValue, VALUE_RE } from "./value-format.js";
export type { ParsedValue } from "./value-format.js";
export { runFields } from "./run.js";
export type { RunFieldsOptions } from "./run.js";
export { checkFields } from "./check.js";
export type { CheckResult, CheckFinding } from "./check.js";
export { FORMATS, formatOf } from "./formats/index.js";
export type { RecordFormat } from "./formats/index.js";

// per-subject keys (crypto-shredding erasure) and encrypted RAG corpora
export * from "./subjects/index.js";
export * from "./corpus/index.js";
