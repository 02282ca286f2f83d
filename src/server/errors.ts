/**
 * Key-service errors on the wire: every failure is `{ error: { code, message } }` with a
 * status fixed by the code. Codes are the library's stable `ErrorCode`s (docs/errors.md); a
 * stack trace never leaves the server.
 */
import { type ErrorCode, isPipesealError } from "../errors.js";

export type WireCode = ErrorCode;

/** A refusal the service itself raises (policy, token, route). */
export class ServiceError extends Error {
  readonly code: WireCode;
  constructor(code: WireCode, message: string) {
    super(message);
    this.code = code;
    this.name = "ServiceError";
  }
}

/** The fixed HTTP status of each code; anything unlisted that a user can cause is 400. */
const STATUS: Partial<Record<WireCode, number>> = {
  INVALID_ARGUMENT: 400,
  DECRYPT_FAILED: 400,
  LIMIT_EXCEEDED: 400,
  MALFORMED_HEADER: 400,
  KEYRING_MISMATCH: 400,
  UNAUTHENTICATED: 401,
  ACCESS_DENIED: 403,
  CERT_REJECTED: 403,
  KEY_NOT_FOUND: 404,
  KEY_VERSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  KEY_EXISTS: 409,
  KEY_STATE_CONFLICT: 409,
  KEY_DISABLED: 409,
  KEY_DESTROYED: 410,
  KEY_BELOW_MIN_VERSION: 409,
  KEY_USAGE_LIMIT: 409,
  SECRET_NOT_FOUND: 404,
  SECRET_DISABLED: 409,
  SECRET_DESTROYED: 410,
  SECRET_STATE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  AUDIT_WRITE_FAILED: 503,
  AUDIT_CHAIN_BROKEN: 503,
  AUDIT_ANCHOR_INVALID: 400,
  AUDIT_ROLLBACK: 409,
  UNAVAILABLE: 503,
  KEYSTORE_CORRUPT: 503,
  KEYSTORE_BUSY: 503,
  MASTER_KEY_UNAVAILABLE: 503,
  IO_ERROR: 503,
};

export function statusFor(code: WireCode): number {
  return STATUS[code] ?? 400;
}

export interface WireError {
  readonly status: number;
  readonly body: { error: { code: WireCode; message: string } };
}

/**
 * Maps anything thrown while handling a request to a wire error. Pipeseal and service errors
 * keep their code; fastify's own client errors (bad JSON, schema, size, content type) become
 * INVALID_ARGUMENT / PAYLOAD_TOO_LARGE; anything else is an opaque 503 UNAVAILABLE — never a
 * 500 with internals. (Unexpected errors are logged server-side by the caller.)
 */
export function toWireError(e: unknown): WireError {
  if (e instanceof ServiceError || isPipesealError(e)) {
    const code = e.code as WireCode;
    // DECRYPT_FAILED stays opaque: one message whatever the cause
    return wire(code, code === "DECRYPT_FAILED" ? "decryption failed" : e.message);
  }
  const f = e as { statusCode?: unknown; code?: unknown; validation?: unknown; message?: unknown };
  if (f && typeof f === "object") {
    if (f.code === "FST_ERR_CTP_BODY_TOO_LARGE" || f.statusCode === 413) return wire("PAYLOAD_TOO_LARGE", "the request body is too large");
    if (f.validation !== undefined) return wire("INVALID_ARGUMENT", `invalid request: ${String(f.message).slice(0, 300)}`);
    if (typeof f.statusCode === "number" && f.statusCode >= 400 && f.statusCode < 500) {
      if (f.statusCode === 404) return wire("NOT_FOUND", "no such route");
      return wire("INVALID_ARGUMENT", `invalid request: ${String(f.message).slice(0, 200)}`);
    }
  }
  return wire("UNAVAILABLE", "the key service could not complete the request");
}

function wire(code: WireCode, message: string): WireError {
  return { status: statusFor(code), body: { error: { code, message } } };
}
