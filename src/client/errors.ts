/**
 * Errors from the key service, as PipesealErrors. `serviceCode` is the exact wire code; `code`
 * is the same when it is a library code, else the nearest one (ACCESS_DENIED and
 * UNAUTHENTICATED → CERT_REJECTED, UNAVAILABLE → TLS_CONNECT_FAILED, NOT_FOUND and
 * PAYLOAD_TOO_LARGE → INVALID_ARGUMENT) until src/errors.ts has codes of its own for them.
 */
import { ERROR_CODES, type ErrorCode, PipesealError } from "../errors.js";

const NEAREST: Record<string, ErrorCode> = {
  ACCESS_DENIED: "CERT_REJECTED",
  UNAUTHENTICATED: "CERT_REJECTED",
  UNAVAILABLE: "TLS_CONNECT_FAILED",
  NOT_FOUND: "INVALID_ARGUMENT",
  PAYLOAD_TOO_LARGE: "INVALID_ARGUMENT",
};

export class KeyServiceError extends PipesealError {
  readonly serviceCode: string;
  readonly status: number;
  constructor(status: number, serviceCode: string, message: string) {
    const code: ErrorCode = serviceCode in ERROR_CODES ? (serviceCode as ErrorCode) : (NEAREST[serviceCode] ?? (status >= 500 ? "TLS_CONNECT_FAILED" : "INVALID_ARGUMENT"));
    super(code, `key service: ${message}${code !== serviceCode ? ` [${serviceCode}]` : ""}`);
    this.serviceCode = serviceCode;
    this.status = status;
  }
}
