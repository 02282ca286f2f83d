/**
 * Group commit on PostgreSQL: one transaction per batch of queued calls (src/audit/group-commit.ts).
 *
 * Round trips per batch, whatever its size: BEGIN with the chain head locked ONCE (FOR
 * UPDATE); one SELECT per distinct key version (cached for the batch, so N unwraps of one key
 * cost one); one statement that inserts every record, chained in queue order, and moves the
 * head; COMMIT: one WAL flush for N requests. Under CPU contention each round trip waits for
 * the database backend to be scheduled, so their number, not their size, sets the latency.
 *
 * Locks: the head is the only lock a batch takes, and its reads never block (MVCC), so a
 * batch never waits while holding anything but the head; an admin change locks its key row
 * and then the head. No cycle, so replicas never deadlock, and their batches take turns on
 * the head: the chain stays linear.
 */
import type pg from "pg";
import type { PoolClient } from "pg";
import { type Settled, wipeResults } from "../../audit/group-commit.js";
import type { AuditEvent, AuditRecord } from "../../audit/types.js";
import type { KeyRow, VersionRow } from "../../keys/rows.js";
import { type AuditMac, appendChained, lockAuditHead } from "./pg-audit.js";
import { requireKeyVersionPg } from "./pg-keys.js";

/** What a job sees: the batch's client and cached reads (no locks). */
export interface BatchTx {
  readonly c: PoolClient;
  /** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND) */
  keyVersion(name: string, version: number): Promise<{ key: KeyRow; row: VersionRow }>;
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
    const head = await lockAuditHead(c, { begin: true });
    const tx = batchTx(c);
    for (const job of jobs) outs.push(await job(tx));
    const records = await appendChained(c, mac, head, outs.flatMap((o) => o.events), nowMs());
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
  const reads = new Map<string, Promise<{ key: KeyRow; row: VersionRow }>>();
  return {
    c,
    keyVersion(name, version) {
      const id = `${name}\0${version}`;
      let p = reads.get(id);
      if (p === undefined) reads.set(id, (p = requireKeyVersionPg(c, name, version)));
      return p;
    },
  };
}
