import { type ErrorCode, PipesealError } from "../errors.js";

/**
 * A field-level failure: a malformed policy or row, a value an action cannot handle, or a value
 * that does not reveal. Carries the 1-based row number and the field path when known; the
 * message never holds a field's value. Reveal failures use the opaque DECRYPT_FAILED code.
 */
export class FieldError extends PipesealError {
  readonly row: number | undefined;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, where: { row?: number; field?: string } = {}) {
    const at = [where.row !== undefined ? `row ${where.row}` : "", where.field !== undefined ? `field ${where.field}` : ""].filter(Boolean).join(", ");
    super(code, at ? `${at}: ${message}` : message);
    this.row = where.row;
    this.field = where.field;
  }
}
