/**
 * Who used which key version, from the audit: the aggregates behind the dashboard's key and
 * principal pages (each one SQL GROUP BY over the filtered records, never the log in memory).
 * Which operations count as a use is the caller's choice (the dashboard counts those that
 * hand out a data key).
 */
import type Database from "better-sqlite3";
import { type AuditFilter, auditWhere } from "./filter.js";

export interface UsageRow {
  readonly principal: string;
  readonly key: string | null;
  readonly version: number | null;
  readonly count: number;
  readonly denied: number;
  /** ISO times of the first and last record. */
  readonly first: string;
  readonly last: string;
}

function opsWhere(filter: AuditFilter, operations: readonly string[]): { sql: string; params: unknown[] } {
  const where = auditWhere(filter);
  if (operations.length === 0) return where;
  return { sql: `(${where.sql}) AND operation IN (${operations.map(() => "?").join(", ")})`, params: [...where.params, ...operations] };
}

/** Uses per (principal, key, version) among the filtered records, most used first. */
export function usageByPrincipal(db: Database.Database, filter: AuditFilter, operations: readonly string[], limit = 500): UsageRow[] {
  const w = opsWhere(filter, operations);
  return db
    .prepare(
      `SELECT principal, key_name AS key, key_version AS version, count(*) AS count, sum(outcome <> 'ok') AS denied, min(time) AS first, max(time) AS last
      FROM audit WHERE ${w.sql} GROUP BY principal, key_name, key_version ORDER BY count DESC LIMIT ?`,
    )
    .all(...w.params, limit) as UsageRow[];
}

/** The objects used most under each version (at most `perVersion` each). */
export function objectsByVersion(
  db: Database.Database,
  filter: AuditFilter,
  operations: readonly string[],
  perVersion = 10,
): { version: number | null; object: string; count: number; last: string }[] {
  const w = opsWhere(filter, operations);
  return db
    .prepare(
      `SELECT version, object, count, last FROM (
        SELECT key_version AS version, object_path AS object, count(*) AS count, max(time) AS last,
               row_number() OVER (PARTITION BY key_version ORDER BY count(*) DESC) AS rank
        FROM audit WHERE (${w.sql}) AND object_path IS NOT NULL GROUP BY key_version, object_path)
      WHERE rank <= ? ORDER BY version DESC, count DESC`,
    )
    .all(...w.params, perVersion) as { version: number | null; object: string; count: number; last: string }[];
}

/** Uses per day and version (for the draining-after-rotation chart): ISO day, version, count. */
export function dailyUseByVersion(
  db: Database.Database,
  filter: AuditFilter,
  operations: readonly string[],
): { day: string; version: number | null; count: number }[] {
  const w = opsWhere(filter, operations);
  return db
    .prepare(`SELECT substr(time, 1, 10) AS day, key_version AS version, count(*) AS count FROM audit WHERE ${w.sql} GROUP BY 1, 2 ORDER BY 1, 2`)
    .all(...w.params) as { day: string; version: number | null; count: number }[];
}

/**
 * Counts of the filtered uses in each time range [edges[i], edges[i+1]) (epoch ms, ascending):
 * one COUNT per range, which an index on (time, operation) answers from the index alone,
 * instead of a GROUP BY that sorts every matching row.
 */
export function countsPerRange(db: Database.Database, filter: AuditFilter, operations: readonly string[], edges: readonly number[]): number[] {
  const w = opsWhere(filter, operations);
  const st = db.prepare(`SELECT count(*) AS n FROM audit WHERE time >= ? AND time < ? AND (${w.sql})`);
  const out: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++)
    out.push((st.get(new Date(edges[i]).toISOString(), new Date(edges[i + 1]).toISOString(), ...w.params) as { n: number }).n);
  return out;
}
