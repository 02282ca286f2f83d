/**
 * Errors from the key service, as PipesealErrors. Every wire code is a library `ErrorCode`;
 * `serviceCode` keeps the exact string the service sent, and a code this build does not know
 * (a newer service) becomes UNAVAILABLE for 5xx statuses and INVALID_ARGUMENT otherwise.
 */
import { ERROR_CODES, type ErrorCode, PipesealError } from "../errors.js";

export class KeyServiceError extends PipesealError {
  readonly serviceCode: string;
  readonly status: number;
  constructor(status: number, serviceCode: string, message: string, options?: { cause?: unknown }) {
    const known = serviceCode in ERROR_CODES;
    const code: ErrorCode = known ? (serviceCode as ErrorCode) : status >= 500 ? "UNAVAILABLE" : "INVALID_ARGUMENT";
    super(code, `key service: ${message}${known ? "" : ` [${serviceCode}]`}`, options);
    this.serviceCode = serviceCode;
    this.status = status;
  }
}
