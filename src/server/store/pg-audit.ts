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
import { AuditError, isPipesealError } from "../../errors.js";

/** HMAC-SHA256 under the audit-chain key. */
export type AuditMac = (data: Buffer) => Buffer;

/**
 * Appends `events` in order in the caller's transaction: the chain head is locked once
 * (FOR UPDATE, so replicas take turns), the MACs are chained in memory, and the rows go in
 * with one multi-row INSERT. A group-commit batch calls this once for all its records.
 * @throws AuditError(AUDIT_CHAIN_BROKEN) without a head row; AuditError(AUDIT_WRITE_FAILED) if the insert fails.
 */
export async function appendAuditBatchTx(c: PoolClient, mac: AuditMac, events: readonly AuditEvent[], nowMs: number): Promise<AuditRecord[]> {
  if (events.length === 0) return [];
  try {
    const head = (await c.query<{ seq: number; mac: Buffer }>("SELECT seq, mac FROM audit_head WHERE id = 1 FOR UPDATE")).rows[0];
    if (head === undefined) throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head row is missing");
    let prev = head.seq === 0 ? GENESIS_MAC : head.mac;
    const rows: AuditRow[] = events.map((event, i) => {
      const row = auditRowFor(head.seq + 1 + i, event, nowMs);
      prev = mac(Buffer.concat([prev, canonicalRecord(row)])); // = chainMac (chain.ts)
      return { ...row, mac: prev };
    });
    const params: unknown[] = [];
    const tuples = rows.map((r) => {
      const base = params.length;
      params.push(r.seq, r.time, r.principal, r.operation, r.key_name, r.key_version, r.object_path, r.header_hash, r.context, r.outcome, r.error_code, r.mac);
      return `(${Array.from({ length: 12 }, (_, k) => `$${base + k + 1}`).join(", ")})`;
    });
    await c.query(
      `INSERT INTO audit (seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac) VALUES ${tuples.join(", ")}`,
      params,
    );
    const last = rows[rows.length - 1] as AuditRow;
    await c.query("UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1", [last.seq, last.mac]);
    return rows.map(toRecord);
  } catch (e) {
    if (isPipesealError(e) && (e.code === "AUDIT_CHAIN_BROKEN" || e.code === "AUDIT_WRITE_FAILED")) throw e;
    throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
  }
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
