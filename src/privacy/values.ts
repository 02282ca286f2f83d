/**
 * Reading query inputs out of records: filters (`--where col=value`), the privacy unit, and
 * numeric values. Errors name the row and column, never the value (it is data).
 */
import { PrivacyError } from "./errors.js";

export type Rec = Record<string, unknown>;

export interface Filter {
  readonly column: string;
  readonly value: string;
}

/** A record value as text for filters and unit keys: CSV cells are strings already; JSON scalars are stringified. */
export function cellText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

export function matches(rec: Rec, filters: readonly Filter[]): boolean {
  for (const f of filters) if (cellText(rec[f.column]) !== f.value) return false;
  return true;
}

/**
 * A record's numeric value: a finite number, a bigint, or a numeric string. Missing (absent,
 * null, empty string) is undefined: the row is left out of a valued aggregate.
 * @throws PrivacyError(INVALID_ARGUMENT) for anything else (the row and column, not the value)
 */
export function numericValue(rec: Rec, column: string, row: number): number | undefined {
  const v = rec[column];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string") {
    // Number() parses decimal text as wanted; it also takes "0x1f", "0b1", "0o7" and blank text, refused here
    const n = Number(v);
    if (Number.isFinite(n)) {
      const t = v.trimStart();
      const radix = t.length > 1 && t.charCodeAt(0) === 48 && /[xXbBoO]/.test(t[1]);
      if (t !== "" && !radix) return n;
    }
  }
  throw new PrivacyError("INVALID_ARGUMENT", "the value is not a finite number", { row, column });
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
