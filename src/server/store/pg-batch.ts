/**
 * Group commit on PostgreSQL: one transaction per batch of queued calls (src/audit/group-commit.ts).
 *
 * Order inside the transaction: every job does its reads (key and version rows, cached for
 * the batch, so N unwraps of one key cost two SELECTs) and its crypto, and hands back the
 * audit events it wants recorded; then the chain head is locked ONCE, all events are chained
 * in queue order and inserted with one INSERT, and the batch COMMITs: one WAL flush for N
 * requests. Jobs take no row locks, and the head is locked last, after any row lock a
 * concurrent admin change holds (the lock order of the whole store), so replicas never
 * deadlock and their batches take turns on the head: the chain stays linear.
 */
import type pg from "pg";
import type { PoolClient } from "pg";
import { type Settled, wipeResults } from "../../audit/group-commit.js";
import type { AuditEvent, AuditRecord } from "../../audit/types.js";
import type { KeyRow, VersionRow } from "../../keys/rows.js";
import { type AuditMac, appendAuditBatchTx } from "./pg-audit.js";
import { requireKeyPg, requireVersionPg } from "./pg-keys.js";

/** What a job sees: the batch's client and cached reads (no locks). */
export interface BatchTx {
  readonly c: PoolClient;
  /** @throws KeyError(KEY_NOT_FOUND) */
  key(name: string): Promise<KeyRow>;
  /** @throws KeyError(KEY_VERSION_NOT_FOUND) */
  version(name: string, version: number): Promise<VersionRow>;
}

/**
 * A job's part of the batch: the records to append and what its caller gets once they
 * committed (`"record"`: the first appended record). A job settles refusals itself and
 * throws only what must abort the whole batch (a database error).
 */
export interface JobOutput {
  readonly events: readonly AuditEvent[];
  readonly result: Settled<unknown> | "record";
}

export type PgJob = (tx: BatchTx) => Promise<JobOutput>;

/** Runs `jobs` in one transaction; see the module comment. On failure, wipes their secrets and throws. */
export async function commitPgBatch(pool: pg.Pool, mac: AuditMac, nowMs: () => number, jobs: readonly PgJob[]): Promise<Settled<unknown>[]> {
  const c = await pool.connect();
  const outs: JobOutput[] = [];
  let broken = false;
  try {
    await c.query("BEGIN");
    const tx = batchTx(c);
    for (const job of jobs) outs.push(await job(tx));
    const records = await appendAuditBatchTx(c, mac, outs.flatMap((o) => o.events), nowMs());
    await c.query("COMMIT");
    return settle(outs, records);
  } catch (e) {
    wipeResults(outs.flatMap((o) => (o.result === "record" ? [] : [o.result])));
    await c.query("ROLLBACK").catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    c.release(broken);
  }
}

function settle(outs: readonly JobOutput[], records: readonly AuditRecord[]): Settled<unknown>[] {
  let next = 0;
  return outs.map((o) => {
    const first = records[next];
    next += o.events.length;
    return o.result === "record" ? { ok: true, value: first } : o.result;
  });
}

function batchTx(c: PoolClient): BatchTx {
  const keys = new Map<string, Promise<KeyRow>>();
  const versions = new Map<string, Promise<VersionRow>>();
  return {
    c,
    key(name) {
      let p = keys.get(name);
      if (p === undefined) keys.set(name, (p = requireKeyPg(c, name)));
      return p;
    },
    version(name, version) {
      const id = `${name}\0${version}`;
      let p = versions.get(id);
      if (p === undefined) versions.set(id, (p = requireVersionPg(c, name, version)));
      return p;
    },
  };
}
