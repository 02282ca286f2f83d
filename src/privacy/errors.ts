import { type ErrorCode, PipesealError } from "../errors.js";

/**
 * A differential-privacy failure: a refused spend (PRIVACY_BUDGET_EXHAUSTED), a budget that does
 * not exist (PRIVACY_BUDGET_NOT_FOUND), or a query argument or input value that cannot be used
 * (INVALID_ARGUMENT, with the row number and column when known). A message never holds a value
 * read from the data.
 */
export class PrivacyError extends PipesealError {
  constructor(code: ErrorCode, message: string, where: { row?: number; column?: string } = {}) {
    const at = [where.row !== undefined ? `row ${where.row}` : "", where.column !== undefined ? `column ${where.column}` : ""].filter(Boolean).join(", ");
    super(code, at ? `${at}: ${message}` : message);
  }
}
