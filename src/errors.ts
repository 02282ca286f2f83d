/**
 * Typed errors with stable codes. Every error a user can cause is one of these; each code's
 * message, class, HTTP status, exit status and audit outcome are one row of the registry
 * (src/error-registry.ts), and `docs/errors.md` lists every row (a test keeps the two in sync).
 */
import { ERROR_REGISTRY, type ErrorClassName, type ErrorCode, type ExitStatus, type FailureOutcome } from "./error-registry.js";

export { ERROR_REGISTRY, EXIT, type ErrorClassName, type ErrorCode, type ErrorRow, type ExitStatus, type FailureOutcome } from "./error-registry.js";

/** Each code's default message (the registry's `message` column). */
export const ERROR_CODES = Object.fromEntries(Object.entries(ERROR_REGISTRY).map(([code, r]) => [code, r.message])) as { readonly [C in ErrorCode]: string };

type Options = { cause?: unknown };

/**
 * Base of every pipeseal error. `code` is stable; `message` is for humans and never holds key
 * material or plaintext. `new PipesealError(code, …)` builds the class the registry names for
 * the code (a `KeyError` for KEY_DISABLED, the opaque `DecryptError` for DECRYPT_FAILED), so
 * an error rebuilt from a code alone (a worker thread's, the wire's) is the same class as one
 * thrown in place; subclasses construct themselves.
 */
export class PipesealError extends Error {
  readonly code!: ErrorCode; // assigned below on every path that keeps `this`
  constructor(code: ErrorCode, message?: string, options?: Options) {
    const row = Object.hasOwn(ERROR_REGISTRY, code) ? ERROR_REGISTRY[code] : undefined;
    // returning an object from a constructor replaces `this`: the registered class instead of the base
    if (new.target === PipesealError && row !== undefined) return BUILD[row.class](code, message, options);
    super(message ?? row?.message ?? code, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Builds the registered class of `code` (the same as `new PipesealError(code, message, options)`). */
export function createError(code: ErrorCode, message?: string, options?: Options): PipesealError {
  return new PipesealError(code, message, options);
}

/** Authentication failed. Deliberately opaque: one code, one message, whatever the cause. */
export class DecryptError extends PipesealError {
  constructor() {
    super("DECRYPT_FAILED");
  }
}

/** The sealed-file structure is wrong (before any cryptography is tried). */
export class FormatError extends PipesealError {}

/** A key, key version, secret, keyring or certificate-authority problem. */
export class KeyError extends PipesealError {}

/** The keystore or its master key. */
export class KeystoreError extends PipesealError {}

/** Audit could not be written or does not verify. */
export class AuditError extends PipesealError {}

/** A user-supplied argument or file is wrong. */
export class UsageError extends PipesealError {}

/** The machine, the network or a peer failed (I/O, TLS, a port in use, a child process, the native engine): not the caller's doing. */
export class EnvironmentError extends PipesealError {}

/** A refusal a service itself raises (the key service's policy, token or route; the data gateway's policy). */
export class ServiceError extends PipesealError {
  constructor(code: ErrorCode, message?: string, options?: Options) {
    super(code, message, options);
  }
}

/**
 * A field-level failure: a malformed policy or row, a value an action cannot handle, or a value
 * that does not reveal. Carries the 1-based row number and the field path when known; the
 * message never holds a field's value. Reveal failures use the opaque DECRYPT_FAILED code.
 */
export class FieldError extends PipesealError {
  readonly row: number | undefined;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message?: string, where: { row?: number; field?: string; cause?: unknown } = {}) {
    const at = [where.row !== undefined ? `row ${where.row}` : "", where.field !== undefined ? `field ${where.field}` : ""].filter(Boolean).join(", ");
    const text = message ?? ERROR_REGISTRY[code].message;
    super(code, at ? `${at}: ${text}` : text, where.cause === undefined ? undefined : { cause: where.cause });
    this.row = where.row;
    this.field = where.field;
  }
}

/**
 * A differential-privacy failure: a refused spend (PRIVACY_BUDGET_EXHAUSTED), a budget that does
 * not exist (PRIVACY_BUDGET_NOT_FOUND), or a query argument or input value that cannot be used
 * (INVALID_ARGUMENT, with the row number and column when known). A message never holds a value
 * read from the data.
 */
export class PrivacyError extends PipesealError {
  constructor(code: ErrorCode, message?: string, where: { row?: number; column?: string; cause?: unknown } = {}) {
    const at = [where.row !== undefined ? `row ${where.row}` : "", where.column !== undefined ? `column ${where.column}` : ""].filter(Boolean).join(", ");
    const text = message ?? ERROR_REGISTRY[code].message;
    super(code, at ? `${at}: ${text}` : text, where.cause === undefined ? undefined : { cause: where.cause });
  }
}

/** One finding of a model-artifact verification, named so a user can act on it. */
export interface Problem {
  readonly kind: "changed" | "added" | "removed" | "renamed" | "manifest" | "signature" | "untrusted" | "unsigned";
  /** The model path concerned (for renamed: the old path). */
  readonly path?: string;
  /** For renamed: the new path. */
  readonly to?: string;
  readonly detail?: string;
}

/** A model-artifact failure; `problems` names every differing file (a model check has no oracle to protect). */
export class ArtifactError extends PipesealError {
  readonly problems: readonly Problem[];
  constructor(code: ErrorCode, message?: string, problems: readonly Problem[] = [], options?: Options) {
    super(code, message, options);
    this.problems = problems;
  }
}

/** Bad monitor input, configuration or state, or a monitor that could not deliver. */
export class MonitorError extends PipesealError {}

/**
 * A secure-aggregation round failed or a message was refused:
 * - `SECAGG_ABORTED`: fewer than the threshold of parties remained at some step (or the aggregator aborted the round);
 * - `SECAGG_PROTOCOL`: a message broke the protocol (bad signature, another round's message, unknown party, wrong step, malformed);
 * - `SECAGG_UNSAFE_REQUEST`: the aggregator asked a party for what would reveal a peer's input (both shares of one peer, a second unmasking, too few survivors);
 * - `SECAGG_PENDING`: the round has not finished yet;
 * - `SECAGG_INCONSISTENT`: the consistency check failed — the survivor set U3 this party signed is not the one the forwarded signatures vouch for (split view, forged or missing signatures, fewer than t).
 */
export class SecaggError extends PipesealError {}

const BUILD: Record<ErrorClassName, (code: ErrorCode, message?: string, options?: Options) => PipesealError> = {
  DecryptError: () => new DecryptError(), // opaque: a message given with DECRYPT_FAILED is dropped
  FormatError: (c, m, o) => new FormatError(c, m, o),
  KeyError: (c, m, o) => new KeyError(c, m, o),
  KeystoreError: (c, m, o) => new KeystoreError(c, m, o),
  AuditError: (c, m, o) => new AuditError(c, m, o),
  UsageError: (c, m, o) => new UsageError(c, m, o),
  EnvironmentError: (c, m, o) => new EnvironmentError(c, m, o),
  ServiceError: (c, m, o) => new ServiceError(c, m, o),
  FieldError: (c, m, o) => new FieldError(c, m, { ...o }),
  PrivacyError: (c, m, o) => new PrivacyError(c, m, { ...o }),
  ArtifactError: (c, m, o) => new ArtifactError(c, m, [], o),
  MonitorError: (c, m, o) => new MonitorError(c, m, o),
  SecaggError: (c, m, o) => new SecaggError(c, m, o),
};

export function isPipesealError(e: unknown): e is PipesealError {
  return e instanceof PipesealError;
}

/** Whether `code` is one of this build's codes (a wire or worker string may not be). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_REGISTRY, code);
}

/**
 * The one place that decides how an audit record of a failed operation reads: `denied` when
 * the code is a refusal (key state, policy, the caller's input), `error` for everything else,
 * including anything that is not a PipesealError.
 */
export function auditOutcomeOf(e: unknown): FailureOutcome {
  return isPipesealError(e) && isErrorCode(e.code) ? ERROR_REGISTRY[e.code].outcome : "error";
}

/** The HTTP status of a code on the wire. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_REGISTRY[code].http;
}

/** The CLI's exit status for a code. */
export function exitStatusOf(code: ErrorCode): ExitStatus {
  return ERROR_REGISTRY[code].exit;
}
