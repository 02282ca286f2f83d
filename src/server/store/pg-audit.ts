/**
 * The audit chain on PostgreSQL: the construction of src/audit/chain.ts, appended inside the
 * caller's transaction after locking the single-row `audit_head` FOR UPDATE. Every replica
 * takes that lock last (after any key row), so appends are serialized across replicas
 * without deadlocks, and a change and its record commit together or not at all. A
 * group-commit batch takes the lock once for all its records, or takes none and appends only
 * if the head is still the one its records chain after (insertIfHeadAt).
 *
 * The head row carries its own MAC (`tag`, src/audit/head-mac.ts), written with every append
 * (one HMAC per append statement, whatever the number of records), and checked before a
 * transaction extends a head it did not write itself (requireExtendable): a head pointed at an
 * earlier record, or at seq 0, is refused rather than extended and re-tagged.
 */
import type { PoolClient } from "pg";
import { type AuditKey, GENESIS_MAC, canonicalRecord } from "../../audit/chain.js";
import { toRecord } from "../../audit/list.js";
import type { AuditRow } from "../../audit/schema.js";
import { auditRowFor } from "../../audit/sqlite-sink.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import { type VerifyAuditOptions, verifyChainRows } from "../../audit/verify.js";
import { AuditError } from "../../errors.js";
import { headIsAuthentic, headTag } from "../../audit/head-mac.js";

/** HMAC-SHA256 under the audit-chain key. */
export type AuditMac = (data: Buffer) => Buffer;

/** The chain head as locked by a transaction. */
export interface LockedHead {
  readonly seq: number;
  readonly mac: Buffer;
  /** The head's own MAC; null in a database from before head MACs (migration 2) until it is sealed. */
  readonly tag?: Buffer | null;
}

const HEAD_FOR_UPDATE = "SELECT seq, mac, tag FROM audit_head WHERE id = 1 FOR UPDATE";

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

/**
 * The MAC functions of stores opened on a database from before head MACs whose chain did not
 * verify (pg-seal.ts): they keep appending after the untagged head and tag nothing, so the
 * store keeps working and `audit verify` keeps reporting it (as src/audit/sqlite-sink.ts).
 */
const UNSEALED = new WeakSet<AuditMac>();
export function markUnsealed(mac: AuditMac): void {
  UNSEALED.add(mac);
}

/** The head after `rows` are appended, with its tag when `mac` is given (one HMAC). */
export function headAfter(rows: readonly AuditRow[], mac?: AuditMac): LockedHead {
  const last = rows[rows.length - 1];
  const tagged = mac !== undefined && !UNSEALED.has(mac);
  return { seq: last.seq, mac: last.mac, tag: tagged ? headTag(mac, last.seq, last.mac) : null };
}

/**
 * Refuses to extend a head that does not authenticate (unless it is `trusted`: one this
 * process wrote, compared in full). `genesis`: creating the store, the untagged empty head.
 * @throws AuditError(AUDIT_CHAIN_BROKEN)
 */
export function requireExtendable(mac: AuditMac, head: LockedHead, options: { trusted?: LockedHead | null; genesis?: boolean } = {}): void {
  const t = options.trusted;
  if (t != null && sameHeadWithTag(t, head)) return;
  const untagged = head.tag == null || head.tag.length === 0;
  if (options.genesis === true && head.seq === 0 && untagged) return;
  if (UNSEALED.has(mac) && untagged) return;
  const view = { seq: head.seq, mac: head.mac.toString("hex"), ...(untagged ? {} : { tag: head.tag.toString("hex") }) };
  if (headIsAuthentic(mac, view)) return;
  throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head does not authenticate (edited, or records deleted from the end); run `pipeseal audit verify`");
}

/** Same seq, MAC and tag. */
export function sameHeadWithTag(a: LockedHead, b: LockedHead): boolean {
  return a.seq === b.seq && a.mac.equals(b.mac) && a.tag != null && b.tag != null && a.tag.equals(b.tag);
}

// Both appends are one statement whatever the number of records: the rows travel as one array
// per column ($3..$14), so the text never changes and each connection parses and plans it once
// (a named statement). A data-modifying WITH always runs to completion: rows and head change
// together.
const COLUMNS = "seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac";
const ROWS =
  "SELECT * FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[])";
const APPEND_LOCKED = {
  name: "pipeseal-audit-append-v2",
  text: `WITH added AS (INSERT INTO audit (${COLUMNS}) ${ROWS} RETURNING seq) UPDATE audit_head SET seq = $1, mac = $2, tag = $15 WHERE id = 1`,
};
// Moves the head only if it is still the record ($15, $16) (re-checked after waiting for a lock
// holder), and inserts the rows only if it moved: nothing is written when another transaction
// appended first. The seq alone would do while the expected head is one that committed (the
// only kind pg-batch.ts expects); the MAC makes sure of it: the rows' chain starts there.
const APPEND_IF_HEAD = {
  name: "pipeseal-audit-append-if-head-v2",
  text: `WITH moved AS (UPDATE audit_head SET seq = $1, mac = $2, tag = $17 WHERE id = 1 AND seq = $15 AND mac = $16 RETURNING 1)
         INSERT INTO audit (${COLUMNS}) ${ROWS} WHERE EXISTS (SELECT 1 FROM moved)`,
};

function appendValues(rows: readonly AuditRow[]): unknown[] {
  const { seq, mac } = headAfter(rows);
  const column = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k]);
  return [
    seq,
    mac,
    column("seq"),
    column("time"),
    column("principal"),
    column("operation"),
    column("key_name"),
    column("key_version"),
    column("object_path"),
    column("header_hash"),
    column("context"),
    column("outcome"),
    column("error_code"),
    column("mac"),
  ];
}

/**
 * Writes `rows` (from {@link chainedRows} after the head the caller locked) and the new head
 * with its `tag` (headAfter(rows, mac).tag).
 * @throws AuditError(AUDIT_WRITE_FAILED) if the insert fails.
 */
export async function insertChained(c: PoolClient, rows: readonly AuditRow[], tag: Buffer | null): Promise<void> {
  if (rows.length === 0) return;
  try {
    await c.query({ ...APPEND_LOCKED, values: [...appendValues(rows), tag ?? null] });
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
export async function insertIfHeadAt(c: PoolClient, expected: LockedHead, rows: readonly AuditRow[], tag?: Buffer | null): Promise<boolean> {
  try {
    const { rowCount } = await c.query({ ...APPEND_IF_HEAD, values: [...appendValues(rows), expected.seq, expected.mac, tag ?? null] });
    return rowCount === rows.length;
  } catch (e) {
    if ((e as { code?: unknown }).code === SERIALIZATION_FAILURE) return false; // a database whose default isolation is stricter
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
}

const SERIALIZATION_FAILURE = "40001";

/** Chains `events` after the locked `head` and writes them with the new head's tag (one round trip). @throws AuditError(AUDIT_WRITE_FAILED) */
export async function appendChained(c: PoolClient, mac: AuditMac, head: LockedHead, events: readonly AuditEvent[], nowMs: number): Promise<AuditRecord[]> {
  const rows = chainedRows(mac, head, events, nowMs);
  if (rows.length > 0) await insertChained(c, rows, headAfter(rows, mac).tag ?? null);
  return rows.map(toRecord);
}

/** How an append may treat the head it finds (see requireExtendable). */
export interface AppendHeadOptions {
  /** Creating the store: the first record follows the untagged empty head. */
  readonly genesis?: boolean;
  /** Sealing a database from before head MACs whose chain the caller has just verified. */
  readonly sealing?: boolean;
}

/**
 * Appends `events` in order in the caller's transaction, locking the head last (after the
 * caller's row locks) and checking it authenticates (two HMACs: the old head's, the new one).
 * @throws AuditError(AUDIT_CHAIN_BROKEN | AUDIT_WRITE_FAILED)
 */
export async function appendAuditBatchTx(
  c: PoolClient,
  mac: AuditMac,
  events: readonly AuditEvent[],
  nowMs: number,
  options: AppendHeadOptions = {},
): Promise<AuditRecord[]> {
  const head = await lockAuditHead(c);
  if (options.sealing !== true) requireExtendable(mac, head, { genesis: options.genesis === true });
  return appendChained(c, mac, head, events, nowMs);
}

/** Appends one record in the caller's transaction (see {@link appendAuditBatchTx}). */
export async function appendAuditTx(c: PoolClient, mac: AuditMac, event: AuditEvent, nowMs: number, options: AppendHeadOptions = {}): Promise<AuditRecord> {
  return (await appendAuditBatchTx(c, mac, [event], nowMs, options))[0];
}

/** Records oldest first; the most recent `limit` when given. */
export async function listAuditPg(c: PoolClient, options: { sinceMs?: number; limit?: number; afterSeq?: number } = {}): Promise<AuditRecord[]> {
  const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
  const limit = options.limit ?? null;
  const { rows } = await c.query<AuditRow>("SELECT * FROM (SELECT * FROM audit WHERE time >= $1 AND seq > $2 ORDER BY seq DESC LIMIT $3) r ORDER BY seq ASC", [
    since,
    options.afterSeq ?? 0,
    limit,
  ]);
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
  let head: LockedHead | undefined;
  try {
    ({ rows, head } = await readChainPg(c));
  } finally {
    await c.query("COMMIT");
  }
  return verifyRows(rows, head, auditKey);
}

/** Every record and the head, in the caller's transaction. */
export async function readChainPg(c: PoolClient): Promise<{ rows: AuditRow[]; head: LockedHead | undefined }> {
  const rows = (await c.query<AuditRow>("SELECT * FROM audit ORDER BY seq")).rows;
  const head = (await c.query<LockedHead>("SELECT seq, mac, tag FROM audit_head WHERE id = 1")).rows[0];
  return { rows, head };
}

/** src/audit/verify.ts over rows read from PostgreSQL (see verifyAuditPg). */
export function verifyRows(rows: readonly AuditRow[], head: LockedHead | undefined, auditKey: AuditKey, options: VerifyAuditOptions = {}): AuditVerifyResult {
  // the head as the SQLite store keeps it (hex, an empty chain's MAC empty, no tag before migration 2)
  const anchor =
    head === undefined
      ? null
      : {
          seq: head.seq,
          mac: head.seq === 0 ? "" : head.mac.toString("hex"),
          ...(head.tag == null || head.tag.length === 0 ? {} : { tag: head.tag.toString("hex") }),
        };
  return verifyChainRows(rows, anchor, auditKey, options);
}
