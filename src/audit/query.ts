/**
 * Filtered reads of the audit table that stay fast over millions of records: keyset pages
 * on `seq` (a page costs what its records cost, wherever it is in the log, and a record
 * appended meanwhile never shifts a page), a filtered stream for exports, and a timeline of
 * counts per time bucket computed in SQL. Nothing here loads the whole log.
 *
 * @example
 * const page = queryAuditPage(db, { principal: "spiffe://acme/prod/trainer" }, { limit: 50 });
 * for (const r of page.records) console.log(r.seq, r.operation);
 * if (page.older !== null) queryAuditPage(db, filter, { before: page.older });
 */
import type Database from "better-sqlite3";
import { type AuditFilter, auditWhere } from "./filter.js";
import { toRecord } from "./list.js";
import { countsPerRange } from "./usage.js";
import type { AuditRow } from "./schema.js";
import type { AuditRecord } from "./types.js";
import { UsageError } from "../errors.js";

export interface AuditPageRequest {
  /** Records with a seq below this one (the next, older page). */
  readonly before?: number;
  /** Records with a seq above this one (the previous, newer page). */
  readonly after?: number;
  /** Page size, 1..1000 (default 50). */
  readonly limit?: number;
}

export interface AuditPage {
  /** Newest first. */
  readonly records: AuditRecord[];
  /** Cursor (`before`) for the next, older page, or null when this page reaches the oldest match. */
  readonly older: number | null;
  /** Cursor (`after`) for the previous, newer page, or null when this page holds the newest match. */
  readonly newer: number | null;
}

/** One page of the filtered records, newest first. @throws UsageError(INVALID_ARGUMENT) for a bad page size or both cursors */
export function queryAuditPage(db: Database.Database, filter: AuditFilter, request: AuditPageRequest = {}): AuditPage {
  const limit = request.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("INVALID_ARGUMENT", "the page size must be a whole number from 1 to 1000");
  if (request.before !== undefined && request.after !== undefined) throw new UsageError("INVALID_ARGUMENT", "give before or after, not both");
  const where = auditWhere(filter);
  const rowsWhere = (extra: string, order: "ASC" | "DESC", n: number, bound: number) =>
    db.prepare(`SELECT * FROM audit WHERE ${extra} AND (${where.sql}) ORDER BY seq ${order} LIMIT ?`).all(bound, ...where.params, n) as AuditRow[];
  let rows: AuditRow[];
  let more: boolean;
  if (request.after !== undefined) {
    rows = rowsWhere("seq > ?", "ASC", limit + 1, request.after);
    more = rows.length > limit; // newer ones beyond this page
    rows = rows.slice(0, limit).reverse();
  } else {
    rows = rowsWhere("seq < ?", "DESC", limit + 1, request.before ?? Number.MAX_SAFE_INTEGER);
    more = rows.length > limit; // older ones beyond this page
    rows = rows.slice(0, limit);
  }
  const records = rows.map(toRecord);
  const first = records[0]?.seq;
  const last = records[records.length - 1]?.seq;
  const hasOlder = request.after !== undefined ? last !== undefined && exists(db, "seq < ?", last, where) : more;
  const hasNewer = request.after !== undefined ? more : request.before !== undefined && first !== undefined && exists(db, "seq > ?", first, where);
  return { records, older: hasOlder && last !== undefined ? last : null, newer: hasNewer && first !== undefined ? first : null };
}

function exists(db: Database.Database, extra: string, bound: number, where: { sql: string; params: unknown[] }): boolean {
  return db.prepare(`SELECT 1 FROM audit WHERE ${extra} AND (${where.sql}) LIMIT 1`).get(bound, ...where.params) !== undefined;
}

/** One audit record by seq, or null. */
export function auditRecordAt(db: Database.Database, seq: number): AuditRecord | null {
  const row = db.prepare("SELECT * FROM audit WHERE seq = ?").get(seq) as AuditRow | undefined;
  return row === undefined ? null : toRecord(row);
}

/**
 * The filtered records oldest first, read `pageSize` per query by seq (memory stays flat
 * however many match). `read` runs each query: pass the keystore's `readTables` so each page
 * reads one snapshot, or call the database directly.
 */
export function* filteredAuditRecords(
  read: <T>(q: (db: Database.Database) => T) => T,
  filter: AuditFilter,
  options: { afterSeq?: number; pageSize?: number } = {},
): Generator<AuditRecord> {
  const where = auditWhere(filter);
  const size = options.pageSize ?? 1000;
  for (let after = options.afterSeq ?? 0; ;) {
    const rows = read(
      (db) => db.prepare(`SELECT * FROM audit WHERE seq > ? AND (${where.sql}) ORDER BY seq LIMIT ?`).all(after, ...where.params, size) as AuditRow[],
    );
    if (rows.length === 0) return;
    for (const row of rows) yield toRecord(row);
    after = rows[rows.length - 1].seq;
  }
}

/** Bucket widths a timeline can use: the prefix length of the ISO time that names a bucket. */
const GRAINS = [
  { name: "minute", prefix: 16, ms: 60_000 },
  { name: "hour", prefix: 13, ms: 3_600_000 },
  { name: "day", prefix: 10, ms: 86_400_000 },
  { name: "week", prefix: 10, ms: 7 * 86_400_000 },
] as const;

export interface AuditTimeline {
  readonly grain: "minute" | "hour" | "day" | "week";
  /** Every bucket of the span in time order (empty ones too): `start` is the ISO prefix ("2026-03-01T09"). */
  readonly buckets: readonly { readonly start: string; readonly count: number }[];
  /** Records matched in all. */
  readonly total: number;
}

/**
 * Counts of the filtered records per time bucket, the grain chosen so that the span fits in
 * at most `maxBuckets` buckets (or fixed by `grain`): the span first, then one COUNT per
 * bucket (countsPerRange), so no query sorts the matching rows.
 */
export function auditTimeline(
  db: Database.Database,
  filter: AuditFilter,
  options: { maxBuckets?: number; grain?: AuditTimeline["grain"] } = {},
): AuditTimeline {
  const where = auditWhere(filter);
  const span = db.prepare(`SELECT min(time) AS lo, max(time) AS hi FROM audit WHERE ${where.sql}`).get(...where.params) as {
    lo: string | null;
    hi: string | null;
  };
  if (span.lo === null || span.hi === null) return { grain: options.grain ?? "day", buckets: [], total: 0 };
  const lo = Date.parse(span.lo);
  const hi = Date.parse(span.hi);
  const max = options.maxBuckets ?? 120;
  const grain = GRAINS.find((g) => g.name === options.grain) ?? GRAINS.find((g) => (hi - lo) / g.ms < max) ?? GRAINS[GRAINS.length - 1];
  const edges: number[] = [];
  for (let t = Math.floor(lo / grain.ms) * grain.ms; t <= hi; t += grain.ms) edges.push(t);
  edges.push(edges[edges.length - 1] + grain.ms);
  const onlyTime = Object.keys(filter).every((k) => k === "sinceMs" || k === "untilMs" || k === "throughSeq");
  // only a time range: one COUNT per bucket from the time index; any other filter: one pass over its matches
  const counts = onlyTime ? countsPerRange(db, filter, [], edges) : groupedCounts(db, where, grain.prefix, edges);
  const buckets = counts.map((count, i) => ({ start: new Date(edges[i]).toISOString().slice(0, grain.prefix), count }));
  return { grain: grain.name, buckets, total: counts.reduce((n, c) => n + c, 0) };
}

/** Counts per bucket in one GROUP BY over the matching rows (ISO prefixes sort like times), placed into `edges`' buckets. */
function groupedCounts(db: Database.Database, where: { sql: string; params: unknown[] }, prefix: number, edges: readonly number[]): number[] {
  const rows = db.prepare(`SELECT substr(time, 1, ${prefix}) AS start, count(*) AS n FROM audit WHERE ${where.sql} GROUP BY 1`).all(...where.params) as {
    start: string;
    n: number;
  }[];
  const out = new Array<number>(edges.length - 1).fill(0);
  for (const r of rows) {
    const t = Date.parse(r.start.length === 13 ? `${r.start}:00:00Z` : r.start.length === 16 ? `${r.start}:00Z` : `${r.start}T00:00:00Z`);
    let i = 0;
    while (i + 1 < edges.length - 1 && edges[i + 1] <= t) i++;
    out[i] += r.n;
  }
  return out;
}
