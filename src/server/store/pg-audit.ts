/**
 * The audit chain on PostgreSQL: the construction of src/audit/chain.ts, appended inside the
 * caller's transaction after locking the single-row `audit_head` FOR UPDATE. Every replica
 * takes that lock last (after any key row), so appends are serialized across replicas
 * without deadlocks, and a change and its record commit together or not at all. A
 * group-commit batch takes the lock once for all its records.
 */
import Database from "better-sqlite3";
import type { PoolClient } from "pg";
import { type AuditKey, GENESIS_MAC, canonicalRecord } from "../../audit/chain.js";
import { toRecord } from "../../audit/list.js";
import { AUDIT_TABLE_SQL, type AuditRow } from "../../audit/schema.js";
import { auditRowFor } from "../../audit/sqlite-sink.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import { verifyAuditChain } from "../../audit/verify.js";
import { AuditError } from "../../errors.js";

/** HMAC-SHA256 under the audit-chain key. */
export type AuditMac = (data: Buffer) => Buffer;

/** The chain head as locked by a transaction. */
export interface LockedHead {
  readonly seq: number;
  readonly mac: Buffer;
}

const HEAD_FOR_UPDATE = "SELECT seq, mac FROM audit_head WHERE id = 1 FOR UPDATE";

/**
 * Locks the chain head (FOR UPDATE: replicas take turns). With `begin`, BEGIN is sent in the
 * same round trip, for a transaction that takes no other lock (a group-commit batch).
 * @throws AuditError(AUDIT_CHAIN_BROKEN) without a head row; AuditError(AUDIT_WRITE_FAILED) on a database error.
 */
export async function lockAuditHead(c: PoolClient, options: { begin?: boolean } = {}): Promise<LockedHead> {
  let head: LockedHead | undefined;
  try {
    if (options.begin === true) {
      const results = (await c.query(`BEGIN; ${HEAD_FOR_UPDATE}`)) as unknown as { rows: LockedHead[] }[];
      head = results[1]?.rows[0];
    } else head = (await c.query<LockedHead>(HEAD_FOR_UPDATE)).rows[0];
  } catch (e) {
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
  if (head === undefined) throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head row is missing");
  return head;
}

/**
 * Chains `events` after the locked `head` in order and writes them and the new head in ONE
 * statement (one round trip, however many records).
 * @throws AuditError(AUDIT_WRITE_FAILED) if the insert fails.
 */
export async function appendChained(c: PoolClient, mac: AuditMac, head: LockedHead, events: readonly AuditEvent[], nowMs: number): Promise<AuditRecord[]> {
  if (events.length === 0) return [];
  let prev = head.seq === 0 ? GENESIS_MAC : head.mac;
  const rows: AuditRow[] = events.map((event, i) => {
    const row = auditRowFor(head.seq + 1 + i, event, nowMs);
    prev = mac(Buffer.concat([prev, canonicalRecord(row)])); // = chainMac (chain.ts)
    return { ...row, mac: prev };
  });
  const last = rows[rows.length - 1] as AuditRow;
  const params: unknown[] = [last.seq, last.mac];
  const tuples = rows.map((r) => {
    const base = params.length;
    params.push(r.seq, r.time, r.principal, r.operation, r.key_name, r.key_version, r.object_path, r.header_hash, r.context, r.outcome, r.error_code, r.mac);
    return `(${Array.from({ length: 12 }, (_, k) => `$${base + k + 1}`).join(", ")})`;
  });
  try {
    await c.query(
      // a data-modifying WITH always runs to completion: rows and head change in one statement
      `WITH added AS (INSERT INTO audit (seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac) VALUES ${tuples.join(", ")} RETURNING seq)
       UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1`,
      params,
    );
  } catch (e) {
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
  return rows.map(toRecord);
}

/** Appends `events` in order in the caller's transaction, locking the head last (after the caller's row locks). */
export async function appendAuditBatchTx(c: PoolClient, mac: AuditMac, events: readonly AuditEvent[], nowMs: number): Promise<AuditRecord[]> {
  return appendChained(c, mac, await lockAuditHead(c), events, nowMs);
}

/** Appends one record in the caller's transaction (see {@link appendAuditBatchTx}). */
export async function appendAuditTx(c: PoolClient, mac: AuditMac, event: AuditEvent, nowMs: number): Promise<AuditRecord> {
  return (await appendAuditBatchTx(c, mac, [event], nowMs))[0] as AuditRecord;
}

/** Records oldest first; the most recent `limit` when given. */
export async function listAuditPg(c: PoolClient, options: { sinceMs?: number; limit?: number; afterSeq?: number } = {}): Promise<AuditRecord[]> {
  const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
  const limit = options.limit ?? null;
  const { rows } = await c.query<AuditRow>(
    "SELECT * FROM (SELECT * FROM audit WHERE time >= $1 AND seq > $2 ORDER BY seq DESC LIMIT $3) r ORDER BY seq ASC",
    [since, options.afterSeq ?? 0, limit],
  );
  return rows.map(toRecord);
}

/**
 * Verifies the chain with the foundation's verifier (src/audit/verify.ts), unchanged: the
 * rows and head are copied into an in-memory SQLite database of the same schema, so both
 * stores are checked by one implementation. Reads one snapshot (REPEATABLE READ).
 */
export async function verifyAuditPg(c: PoolClient, auditKey: AuditKey): Promise<AuditVerifyResult> {
  await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  let rows: AuditRow[];
  let head: { seq: number; mac: Buffer } | undefined;
  try {
    rows = (await c.query<AuditRow>("SELECT * FROM audit ORDER BY seq")).rows;
    head = (await c.query<{ seq: number; mac: Buffer }>("SELECT seq, mac FROM audit_head WHERE id = 1")).rows[0];
  } finally {
    await c.query("COMMIT");
  }
  const db = new Database(":memory:");
  try {
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); ${AUDIT_TABLE_SQL}`);
    const insert = db.prepare(
      `INSERT INTO audit VALUES (@seq, @time, @principal, @operation, @key_name, @key_version, @object_path, @header_hash, @context, @outcome, @error_code, @mac)`,
    );
    db.transaction(() => {
      for (const r of rows) insert.run(r);
      if (head !== undefined) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('audit_head', ?)").run(JSON.stringify({ seq: head.seq, mac: head.seq === 0 ? "" : head.mac.toString("hex") }));
      }
    })();
    return verifyAuditChain(db, auditKey);
  } finally {
    db.close();
  }
}
