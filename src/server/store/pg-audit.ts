/**
 * The audit chain on PostgreSQL: the construction of src/audit/chain.ts, appended inside the
 * caller's transaction after locking the single-row `audit_head` FOR UPDATE. Every replica
 * takes that lock last (after any key row), so appends are serialized across replicas
 * without deadlocks, and a change and its record commit together or not at all. A
 * group-commit batch takes the lock once for all its records, or takes none and appends only
 * if the head is still the one its records chain after (insertIfHeadAt).
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

/** The rows that chain `events` after `head`, in order (their MACs as chainMac in chain.ts computes them). */
export function chainedRows(mac: AuditMac, head: LockedHead, events: readonly AuditEvent[], nowMs: number): AuditRow[] {
  let prev = head.seq === 0 ? GENESIS_MAC : head.mac;
  return events.map((event, i) => {
    const row = auditRowFor(head.seq + 1 + i, event, nowMs);
    prev = mac(Buffer.concat([prev, canonicalRecord(row)]));
    return { ...row, mac: prev };
  });
}

/** The head after `rows` are appended. */
export function headAfter(rows: readonly AuditRow[]): LockedHead {
  const last = rows[rows.length - 1] as AuditRow;
  return { seq: last.seq, mac: last.mac };
}

// Both appends are one statement whatever the number of records: the rows travel as one array
// per column ($3..$14), so the text never changes and each connection parses and plans it once
// (a named statement). A data-modifying WITH always runs to completion: rows and head change
// together.
const COLUMNS = "seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac";
const ROWS = "SELECT * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[])";
const APPEND_LOCKED = {
  name: "pipeseal-audit-append",
  text: `WITH added AS (INSERT INTO audit (${COLUMNS}) ${ROWS} RETURNING seq) UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1`,
};
// Moves the head only if it is still the record ($15, $16) (re-checked after waiting for a lock
// holder), and inserts the rows only if it moved: nothing is written when another transaction
// appended first. The seq alone would do while the expected head is one that committed (the
// only kind pg-batch.ts expects); the MAC makes sure of it: the rows' chain starts there.
const APPEND_IF_HEAD = {
  name: "pipeseal-audit-append-if-head",
  text: `WITH moved AS (UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1 AND seq = $15 AND mac = $16 RETURNING 1)
         INSERT INTO audit (${COLUMNS}) ${ROWS} WHERE EXISTS (SELECT 1 FROM moved)`,
};

function appendValues(rows: readonly AuditRow[]): unknown[] {
  const { seq, mac } = headAfter(rows);
  const column = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k]);
  return [
    seq, mac,
    column("seq"), column("time"), column("principal"), column("operation"), column("key_name"), column("key_version"),
    column("object_path"), column("header_hash"), column("context"), column("outcome"), column("error_code"), column("mac"),
  ];
}

/**
 * Writes `rows` (from {@link chainedRows} after the head the caller locked) and the new head.
 * @throws AuditError(AUDIT_WRITE_FAILED) if the insert fails.
 */
export async function insertChained(c: PoolClient, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  try {
    await c.query({ ...APPEND_LOCKED, values: appendValues(rows) });
  } catch (e) {
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
}

/**
 * In autocommit and holding no lock: writes `rows` (chained after `expected`) and the new
 * head, durably, in one round trip, but only if the head is still `expected`.
 * @returns false when another transaction appended first (nothing was written)
 * @throws AuditError(AUDIT_WRITE_FAILED) if the statement fails (its outcome is then unknown).
 */
export async function insertIfHeadAt(c: PoolClient, expected: LockedHead, rows: readonly AuditRow[]): Promise<boolean> {
  try {
    const { rowCount } = await c.query({ ...APPEND_IF_HEAD, values: [...appendValues(rows), expected.seq, expected.mac] });
    return rowCount === rows.length;
  } catch (e) {
    if ((e as { code?: unknown }).code === SERIALIZATION_FAILURE) return false; // a database whose default isolation is stricter
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
}

const SERIALIZATION_FAILURE = "40001";

/** Chains `events` after the locked `head` and writes them (one round trip). @throws AuditError(AUDIT_WRITE_FAILED) */
export async function appendChained(c: PoolClient, mac: AuditMac, head: LockedHead, events: readonly AuditEvent[], nowMs: number): Promise<AuditRecord[]> {
  const rows = chainedRows(mac, head, events, nowMs);
  await insertChained(c, rows);
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
