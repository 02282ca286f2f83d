/** Building findings: stable fingerprints and the worst-first order every output uses. */
import { createHash } from "node:crypto";
import { SEVERITIES, type CheckDefinition, type Finding, type Severity, type StageId } from "./types.js";

/**
 * sha256(checkId ‖ subject ‖ location [‖ discriminator]) hex, NUL-separated. Stable across runs
 * as long as the same thing is wrong in the same place; the optional discriminator separates two
 * findings of one check at one location (e.g. the scanner's keyed fingerprint of two secrets in one file).
 */
export function fingerprintOf(checkId: string, subject: string, location: string, discriminator?: string): string {
  const h = createHash("sha256").update(`${checkId}\0${subject}\0${location}`, "utf8");
  if (discriminator !== undefined) h.update(`\0${discriminator}`, "utf8");
  return h.digest("hex");
}

/**
 * Declares a check: returns its definition unchanged, so a check module's table of
 * definitions is typed as CheckDefinition while keeping its literal keys.
 * @example
 * export const KEYS = { missing: defineCheck({ id: "KEYS-MISSING", title: "…", severity: "high", question: "keys", description: "…", fix: "…" }) };
 */
export const defineCheck = (d: CheckDefinition): CheckDefinition => d;

export interface FindingInput {
  readonly stage: StageId | null;
  readonly subject: string;
  readonly location: string;
  readonly message: string;
  readonly evidence?: Finding["evidence"];
  /** Overrides the check's default severity (e.g. PII plaintext is critical). */
  readonly severity?: Severity;
  readonly discriminator?: string;
}

export function finding(def: CheckDefinition, input: FindingInput): Finding {
  return {
    checkId: def.id,
    severity: input.severity ?? def.severity,
    stage: input.stage,
    subject: input.subject,
    location: input.location,
    message: input.message,
    evidence: input.evidence ?? {},
    fingerprint: fingerprintOf(def.id, input.subject, input.location, input.discriminator),
  };
}

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Worst first: severity, then check id, then location, then fingerprint (a total order). */
export function compareFindings(a: Finding, b: Finding): number {
  return severityRank(a.severity) - severityRank(b.severity) || cmp(a.checkId, b.checkId) || cmp(a.location, b.location) || cmp(a.fingerprint, b.fingerprint);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sensitive classes: plaintext of these is one severity step worse. */
export const SENSITIVE = new Set(["pii", "phi", "financial", "secret"]);
