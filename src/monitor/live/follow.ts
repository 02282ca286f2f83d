/**
 * Following the local keystore's audit as it commits: a cheap indexed read of the records
 * after the last seq taken (`seq` is the table's primary key), checked link by link against
 * the chain (keys/audit-link.ts), so a record edited, deleted or rolled back before the monitor
 * read it is itself reported, not silently taken.
 *
 * @example
 * let pos = { seq: 0, mac: null };
 * const page = readAfter(ks, pos, 1000); pos = page.pos;
 */
import { toRecord } from "../../audit/list.js";
import type { AuditRow } from "../../audit/schema.js";
import type { AuditRecord } from "../../audit/types.js";
import type { LocalKeystore } from "../../keys/keystore.js";
import { cached } from "../../io/statement.js";

/** Where the monitor is in the chain: the last seq taken and its MAC (null before seq 1). */
export interface ChainPosition {
  readonly seq: number;
  readonly mac: string | null;
}

export interface IntegrityProblem {
  readonly kind: "missing" | "modified" | "rolled-back";
  /** The seq concerned (for missing, the first one missing). */
  readonly seq: number;
  readonly seqs: readonly number[];
  readonly detail: string;
  /** The principal the record claims (for modified), else "unknown". */
  readonly principal: string;
  readonly key: string | null;
}

export interface Page {
  readonly records: AuditRecord[];
  readonly problems: IntegrityProblem[];
  readonly pos: ChainPosition;
}

export function readAfter(ks: LocalKeystore, from: ChainPosition, limit: number): Page {
  const rows = ks.readTables((db) => cached(db, "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?").all(from.seq, limit) as AuditRow[]);
  const problems: IntegrityProblem[] = [];
  let pos = from;
  if (rows.length === 0) {
    const head = ks.readTables((db) => cached(db, "SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").get() as { seq: number; mac: Buffer } | undefined);
    if ((head?.seq ?? 0) < from.seq) {
      const now = head?.seq ?? 0;
      problems.push({
        kind: "rolled-back",
        seq: now,
        seqs: [],
        principal: "unknown",
        key: null,
        detail: `the audit ends at record ${now}, but the monitor had already read up to record ${from.seq}: records were deleted or the keystore was restored from an older copy`,
      });
      pos = { seq: now, mac: head ? Buffer.from(head.mac).toString("hex") : null };
    }
    return { records: [], problems, pos };
  }
  const records = rows.map(toRecord);
  for (const r of records) {
    if (r.seq !== pos.seq + 1) {
      const missing = r.seq - pos.seq - 1;
      problems.push({
        kind: "missing",
        seq: pos.seq + 1,
        seqs: [r.seq],
        principal: "unknown",
        key: null,
        detail: `audit record(s) ${pos.seq + 1}${missing > 1 ? `..${r.seq - 1}` : ""} are missing (deleted before the monitor read them)`,
      });
    } else if (!ks.auditRecordLinks(pos.mac, r)) {
      problems.push({
        kind: "modified",
        seq: r.seq,
        seqs: [r.seq],
        principal: r.principal,
        key: r.keyName,
        detail: `audit record ${r.seq} does not authenticate against the chain (edited or forged)`,
      });
    }
    pos = { seq: r.seq, mac: r.mac };
  }
  return { records, problems, pos };
}
