/**
 * A field run's counters, filled by the protector and by the JSONL splice path alike. Its own
 * module so that protector.ts and jsonl-splice.ts both import it and neither imports the other.
 */
export interface FieldStats {
  rows: number;
  skipped: number;
  /** Values changed, per action (apply), revealed (reveal) or moved to a new version (rewrap). */
  values: Record<string, number>;
  /** Rule field → rows where the policy names it and the row lacks it. */
  absent: Record<string, number>;
  /** null and empty-string values left as they are. */
  empty: number;
  erased: number;
  /** First errors of skipped rows (row and code only). */
  errors: Array<{ row: number; code: string; message: string }>;
}

export function newStats(): FieldStats {
  return { rows: 0, skipped: 0, values: {}, absent: {}, empty: 0, erased: 0, errors: [] };
}
