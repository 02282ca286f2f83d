/**
 * Data-key uses per time bucket for the overview's charts, kept incrementally: the audit log
 * is append-only (a changed or removed record is what "verify chain" reports), so a bucket's
 * count over the records up to some seq never changes. The counter remembers the counts up
 * to a watermark seq and, on each call, adds only the records appended since (found by the
 * primary key) and counts from scratch only the buckets it has not seen (a new hour or day).
 * The first overview pays for the whole window once; later ones cost the new records.
 */
import type Database from "better-sqlite3";
import { auditWhere } from "../audit/filter.js";
import { countsPerRange } from "../audit/usage.js";

export class UseCounter {
  readonly #ops: readonly string[];
  readonly #stepMs: number;
  #watermark = 0;
  readonly #counts = new Map<number, number>(); // bucket start (epoch ms) → uses with seq ≤ watermark

  /** @param stepMs the bucket width (an hour or a day: buckets align to UTC) */
  constructor(operations: readonly string[], stepMs: number) {
    this.#ops = operations;
    this.#stepMs = stepMs;
  }

  /** Counts for the buckets starting at each of `starts` (aligned to the step), read in `db`'s current snapshot. */
  counts(db: Database.Database, starts: readonly number[]): number[] {
    const head = (db.prepare("SELECT max(seq) AS n FROM audit").get() as { n: number | null }).n ?? 0;
    if (head < this.#watermark) this.#counts.clear(); // a different (restored) log: start over
    if (head !== this.#watermark && this.#counts.size > 0) {
      const w = auditWhere({ throughSeq: head });
      const rows = db
        .prepare(`SELECT time FROM audit WHERE seq > ? AND (${w.sql}) AND operation IN (${this.#ops.map(() => "?").join(", ")})`)
        .all(this.#watermark, ...w.params, ...this.#ops) as { time: string }[];
      for (const r of rows) {
        const start = Math.floor(Date.parse(r.time) / this.#stepMs) * this.#stepMs;
        const had = this.#counts.get(start);
        if (had !== undefined) this.#counts.set(start, had + 1); // buckets not held yet are counted whole below
      }
    }
    this.#watermark = head;
    const missing = starts.filter((s) => !this.#counts.has(s));
    if (missing.length > 0) {
      const fresh = countsPerRange(db, { throughSeq: head }, this.#ops, contiguousEdges(missing, this.#stepMs));
      rangesOf(missing, this.#stepMs).forEach((s, i) => {
        if (missing.includes(s)) this.#counts.set(s, fresh[i]);
      });
    }
    for (const k of this.#counts.keys()) if (k < (starts[0] ?? 0) - this.#stepMs) this.#counts.delete(k); // only the window is kept
    return starts.map((s) => this.#counts.get(s)!);
  }
}

/** The buckets from the first missing to the last, contiguous (one COUNT each). */
function rangesOf(missing: readonly number[], step: number): number[] {
  const out: number[] = [];
  for (let t = missing[0]; t <= missing[missing.length - 1]; t += step) out.push(t);
  return out;
}

function contiguousEdges(missing: readonly number[], step: number): number[] {
  const r = rangesOf(missing, step);
  return [...r, r[r.length - 1] + step];
}
