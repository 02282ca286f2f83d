/** Error answers of the gateway: a fixed status per error code, a JSON body, the code in a header. */
import type { ServerResponse } from "node:http";
import { ERROR_CODES, type ErrorCode, isPipesealError } from "../errors.js";
import { REJECT_HEADER } from "../pki/mtls/errors.js";

/** HTTP status of each error the gateway answers with; anything else is a 500. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  NOT_SEALED: 404, // a `.pseal` name over something that is not sealed: never served
  GATEWAY_DENIED: 403,
  GATEWAY_OBJECT_CHANGED: 409, // replaced while served; a retry reads the new file
  UNAUTHENTICATED: 401, // no certificate and no valid bearer token
  ACCESS_DENIED: 403, // the key service refused the unwrap (its policy, or no delegation for this peer)
  KEY_DISABLED: 403,
  KEY_BELOW_MIN_VERSION: 403,
  KEY_DESTROYED: 410, // crypto-shredded: gone for good
  KEY_NOT_FOUND: 404,
  KEY_VERSION_NOT_FOUND: 404,
  AUDIT_WRITE_FAILED: 503, // fail closed: no audit record, no plaintext
  UNAVAILABLE: 503,
  // the key service (--server) cannot be reached or refused the gateway's own certificate: not the peer's fault
  TLS_CONNECT_FAILED: 503,
  CERT_REJECTED: 503,
};

export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** The stable code of anything thrown while serving (INTERNAL for non-pipeseal errors). */
export function codeOf(e: unknown): ErrorCode | "INTERNAL" {
  return isPipesealError(e) ? e.code : "INTERNAL";
}

/**
 * Answers with a typed error. Messages of pipeseal errors never hold plaintext or keys;
 * anything else is reported by code only.
 */
export function sendError(res: ServerResponse, code: ErrorCode | "INTERNAL", message?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = code === "INTERNAL" ? 500 : statusOf(code);
  const body = JSON.stringify({ error: code, message: message ?? (code === "INTERNAL" ? "internal error" : ERROR_CODES[code]) });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), [REJECT_HEADER]: code, "cache-control": "no-store" });
  res.end(res.req?.method === "HEAD" ? undefined : body);
}
