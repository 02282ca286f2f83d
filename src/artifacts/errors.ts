/**
 * Artifact errors: SIGNATURE_INVALID, SIGNER_UNTRUSTED, ARTIFACT_MISMATCH, ARTIFACT_UNSIGNED,
 * ARTIFACT_NOT_FOUND, ARTIFACT_EXISTS (rows of src/error-registry.ts), and INVALID_ARGUMENT for a
 * malformed signature, trust file or registry entry. Unlike a ciphertext, a model check has no
 * oracle to protect, so the message and `problems` name every differing file.
 */
import { ArtifactError, type ErrorCode, type Problem } from "../errors.js";

// the class and its Problem live with every error class in src/errors.ts (one registry row per code)
export { ArtifactError, type Problem } from "../errors.js";

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
  const code: ErrorCode = has("untrusted")
    ? "SIGNER_UNTRUSTED"
    : has("unsigned")
      ? "ARTIFACT_UNSIGNED"
      : has("signature")
        ? "SIGNATURE_INVALID"
        : "ARTIFACT_MISMATCH";
  throw new ArtifactError(code, `${what}: ${lines.join("; ")}`, problems);
}
