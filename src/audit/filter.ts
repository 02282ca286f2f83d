/**
 * Audit filters: which records a query, a page or an export covers. One WHERE clause built
 * here serves every reader (the dashboard's audit page, its timeline and export, `audit
 * list` and `audit export`), so the records a page shows and the records an export writes
 * can never disagree. Values are bound as parameters, never spliced into the SQL.
 */
import type { AuditOutcome } from "./types.js";
import { UsageError } from "../errors.js";

export interface AuditFilter {
  /** Exact principal. */
  readonly principal?: string;
  /** Exact key name. */
  readonly key?: string;
  /** Exact key version (with or without `key`). */
  readonly version?: number;
  /** Exact operation, e.g. `unwrap`, `key.rotate`. */
  readonly operation?: string;
  readonly outcome?: AuditOutcome;
  /** Substring of the object path (case-insensitive for ASCII, as SQL LIKE). */
  readonly object?: string;
  /** Every pair must be in the record's encryption context, with exactly this value. */
  readonly context?: Readonly<Record<string, string>>;
  /** Substring of any text field: principal, operation, key, object, context, error code. */
  readonly text?: string;
  /** Records at or after this epoch-millisecond time. */
  readonly sinceMs?: number;
  /** Records strictly before this epoch-millisecond time. */
  readonly untilMs?: number;
  /** Records up to this seq (a snapshot of the log as of one head). */
  readonly throughSeq?: number;
}

export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ["ok", "denied", "error"];

/** LIKE pattern matching `s` anywhere, with LIKE's own wildcards escaped (ESCAPE '\'). */
export function likeAnywhere(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The WHERE clause (without the keyword; "1" for no filter) and its parameters, in order. */
export function auditWhere(filter: AuditFilter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    parts.push(sql);
    params.push(...values);
  };
  if (filter.principal !== undefined) add("principal = ?", filter.principal);
  if (filter.key !== undefined) add("key_name = ?", filter.key);
  if (filter.version !== undefined) add("key_version = ?", filter.version);
  if (filter.operation !== undefined) add("operation = ?", filter.operation);
  if (filter.outcome !== undefined) {
    if (!AUDIT_OUTCOMES.includes(filter.outcome)) throw new UsageError("INVALID_ARGUMENT", `outcome must be one of ${AUDIT_OUTCOMES.join(", ")}`);
    add("outcome = ?", filter.outcome);
  }
  if (filter.object !== undefined) add("object_path LIKE ? ESCAPE '\\'", likeAnywhere(filter.object));
  for (const [k, v] of Object.entries(filter.context ?? {})) {
    // json_each compares the key as text: no JSON-path quoting of user input
    add(
      "context IS NOT NULL AND json_valid(context) AND EXISTS (SELECT 1 FROM json_each(audit.context) WHERE json_each.key = ? AND json_each.value = ?)",
      k,
      v,
    );
  }
  if (filter.text !== undefined && filter.text !== "") {
    const p = likeAnywhere(filter.text);
    const fields = ["principal", "operation", "key_name", "object_path", "context", "error_code"];
    add(`(${fields.map((f) => `${f} LIKE ? ESCAPE '\\'`).join(" OR ")})`, ...fields.map(() => p));
  }
  if (filter.sinceMs !== undefined) add("time >= ?", iso(filter.sinceMs));
  if (filter.untilMs !== undefined) add("time < ?", iso(filter.untilMs));
  if (filter.throughSeq !== undefined) add("seq <= ?", filter.throughSeq);
  return { sql: parts.length === 0 ? "1" : parts.join(" AND "), params };
}

/** The filter as the audit record of an export of it (what it asked for). */
export function filterContext(filter: AuditFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["principal", "key", "operation", "outcome", "object", "text"] as const) if (filter[k] !== undefined) out[k] = String(filter[k]);
  if (filter.version !== undefined) out.version = String(filter.version);
  for (const [k, v] of Object.entries(filter.context ?? {})) out[`context.${k}`] = v;
  if (filter.sinceMs !== undefined) out.since = iso(filter.sinceMs);
  if (filter.untilMs !== undefined) out.until = iso(filter.untilMs);
  return out;
}

function iso(ms: number): string {
  if (!Number.isFinite(ms)) throw new UsageError("INVALID_ARGUMENT", "a time bound must be a finite time");
  return new Date(ms).toISOString();
}
