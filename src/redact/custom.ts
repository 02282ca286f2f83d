/**
 * Custom detectors from configuration: a regular expression, an optional validator
 * (luhn, mod97, entropy), optional context words that must appear shortly before the match,
 * a label. Patterns that could backtrack catastrophically (a quantified group that itself
 * holds a quantifier, back-references) are refused, so one log line cannot stall a pipeline.
 */
import { UsageError } from "../errors.js";
import type { Detector, FindingKind } from "./types.js";
import { contextBefore, entropy, luhn, mod97, patternDetector } from "./detectors/util.js";

export type ValidatorName = "luhn" | "mod97" | "entropy";

export interface CustomDetectorConfig {
  /** Detector id, e.g. "employee-id" (letters, digits, dashes). */
  readonly id: string;
  /** Replacement label, e.g. "EMPLOYEE_ID". */
  readonly label: string;
  readonly kind?: FindingKind;
  /** JavaScript regular-expression source. */
  readonly pattern: string;
  /** Extra flags: only i, m, s, u. */
  readonly flags?: string;
  readonly validator?: ValidatorName;
  /** With validator "entropy": bits per character (default 3.5). */
  readonly minEntropy?: number;
  /** Words one of which must appear within `contextWindow` characters before the match. */
  readonly context?: readonly string[];
  readonly contextWindow?: number;
  /** Default 0.9. */
  readonly confidence?: number;
}

/** A quantified group containing a quantifier, e.g. `(a+)+`, `(\w*x)*`, `(a|b{2,})+`. */
const NESTED = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/;

/** Throws UsageError if `source` looks able to backtrack exponentially. */
export function assertSafePattern(source: string, where = "pattern"): void {
  if (source.length > 2000) throw new UsageError("INVALID_ARGUMENT", `${where} is longer than 2000 characters`);
  if (NESTED.test(source))
    throw new UsageError(
      "INVALID_ARGUMENT",
      `${where} has a quantified group holding a quantifier (e.g. (a+)+), which can backtrack catastrophically; rewrite it without nesting`,
    );
  if (/\\[1-9]|\\k</.test(source)) throw new UsageError("INVALID_ARGUMENT", `${where} uses a back-reference, which is not allowed`);
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Builds a detector from configuration.
 * @throws UsageError(INVALID_ARGUMENT) for a bad id, flags, validator or an unsafe pattern.
 * @example customDetector({ id: "employee-id", label: "EMPLOYEE_ID", pattern: "\\bEMP-\\d{6}\\b" })
 */
export function customDetector(cfg: CustomDetectorConfig): Detector {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(cfg.id))
    throw new UsageError("INVALID_ARGUMENT", `custom detector id "${cfg.id}" must be lowercase letters, digits and dashes`);
  if (!/^[A-Z0-9_]{1,32}$/.test(cfg.label)) throw new UsageError("INVALID_ARGUMENT", `custom detector ${cfg.id}: label must be A-Z, 0-9, _`);
  const flags = cfg.flags ?? "";
  if (!/^[imsu]*$/.test(flags)) throw new UsageError("INVALID_ARGUMENT", `custom detector ${cfg.id}: flags may only be i, m, s, u`);
  assertSafePattern(cfg.pattern, `custom detector ${cfg.id}`);
  let pattern: RegExp;
  try {
    pattern = new RegExp(cfg.pattern, flags + "g");
  } catch (e) {
    throw new UsageError("INVALID_ARGUMENT", `custom detector ${cfg.id}: ${(e as Error).message}`);
  }
  const validator = cfg.validator;
  if (validator !== undefined && !["luhn", "mod97", "entropy"].includes(validator))
    throw new UsageError("INVALID_ARGUMENT", `custom detector ${cfg.id}: unknown validator "${validator}" (luhn, mod97, entropy)`);
  const words = cfg.context && cfg.context.length > 0 ? new RegExp(cfg.context.map(escapeRe).join("|"), "i") : null;
  const confidence = cfg.confidence ?? 0.9;
  const minEntropy = cfg.minEntropy ?? 3.5;
  return patternDetector({
    id: cfg.id,
    kind: cfg.kind ?? "pii",
    label: cfg.label,
    pattern,
    confidence,
    explanation: `custom detector ${cfg.id}`,
    validate(value, text, start) {
      if (words && !contextBefore(text, start, words, cfg.contextWindow ?? 48)) return null;
      if (validator === "luhn" && !luhn(value.replace(/[ -]/g, ""))) return null;
      if (validator === "mod97" && !mod97(value.replace(/ /g, "").toUpperCase())) return null;
      if (validator === "entropy" && entropy(value) < minEntropy) return null;
      return { confidence };
    },
  });
}
