/**
 * Artifact errors. The codes are the closest existing ones until dedicated codes land
 * (proposed: SIGNATURE_INVALID, SIGNER_UNTRUSTED, ARTIFACT_MISMATCH, ARTIFACT_NOT_FOUND,
 * ARTIFACT_EXISTS; see docs/artifacts.md §Errors):
 * - a signature or manifest that does not verify, or model files that differ: DECRYPT_FAILED
 *   (the authentication code; unlike a ciphertext, a model check has no oracle to protect,
 *   so the message and `problems` name every differing file);
 * - a signer key not in the trust file: CERT_REJECTED ("pinned key mismatch, or identity not allowed");
 * - malformed signature, trust file or registry entries, unknown versions: INVALID_ARGUMENT.
 */
import { PipesealError, type ErrorCode } from "../errors.js";

/** One finding of a verification, named so a user can act on it. */
export interface Problem {
  readonly kind: "changed" | "added" | "removed" | "renamed" | "manifest" | "signature" | "untrusted" | "unsigned";
  /** The model path concerned (for renamed: the old path). */
  readonly path?: string;
  /** For renamed: the new path. */
  readonly to?: string;
  readonly detail?: string;
}

export class ArtifactError extends PipesealError {
  readonly problems: readonly Problem[];
  constructor(code: ErrorCode, message: string, problems: readonly Problem[] = []) {
    super(code, message);
    this.problems = problems;
  }
}

/** A one-line description of a problem, as the CLI prints it. */
export function describeProblem(p: Problem): string {
  switch (p.kind) {
    case "changed":
      return `changed: ${p.path}${p.detail ? ` (${p.detail})` : ""}`;
    case "added":
      return `added: ${p.path}`;
    case "removed":
      return `removed: ${p.path}`;
    case "renamed":
      return `renamed: ${p.path} -> ${p.to}`;
    default:
      return `${p.kind}: ${p.detail ?? p.path ?? ""}`;
  }
}

/** Throws the error a list of problems calls for: untrusted, then unsigned, then a bad signature, then differing files. */
export function failWith(problems: readonly Problem[], what: string): never {
  const lines = problems.map(describeProblem);
  const has = (kind: Problem["kind"]) => problems.some((p) => p.kind === kind);
  const code: ErrorCode = has("untrusted") ? "SIGNER_UNTRUSTED" : has("unsigned") ? "ARTIFACT_UNSIGNED" : has("signature") ? "SIGNATURE_INVALID" : "ARTIFACT_MISMATCH";
  throw new ArtifactError(code, `${what}: ${lines.join("; ")}`, problems);
}
