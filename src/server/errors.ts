/**
 * Key-service errors on the wire: every failure is `{ error: { code, message } }` with a
 * status fixed by the code. Codes are the library's stable `ErrorCode`s (docs/errors.md); a
 * stack trace never leaves the server.
 */
import { type ErrorCode, httpStatusOf, isPipesealError } from "../errors.js";

export { ServiceError } from "../errors.js";

export type WireCode = ErrorCode;

/** The fixed HTTP status of each code: the registry's `http` column (src/error-registry.ts). */
export function statusFor(code: WireCode): number {
  return httpStatusOf(code);
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
  if (isPipesealError(e)) {
    const code = e.code;
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
