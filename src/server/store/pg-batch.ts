/**
 * Group commit on PostgreSQL: one durable write per batch of queued calls (src/audit/group-commit.ts).
 *
 * Fast path, ONE round trip: the jobs run against a snapshot of the chain head and of the key
 * versions they need, kept from earlier batches, and their records are written with the head
 * in one autocommit statement that succeeds only if the head has not moved since the snapshot
 * (pg-audit.ts insertIfHeadAt). The snapshot is current exactly when the head is: every change
 * to a key row or version commits together with its audit record, so it moves the head. A
 * stale snapshot therefore writes nothing, and the batch is run again on the locked path; no
 * key is released before its records committed either way.
 *
 * Locked path, four round trips: BEGIN with the head locked (FOR UPDATE); one SELECT per
 * distinct key version; one statement inserting every record and moving the head; COMMIT.
 * It is taken when the snapshot lacks a version the batch needs, after the fast path lost a
 * race, and while another writer (a replica) keeps moving the head; each locked batch renews
 * the snapshot from what it read under the lock.
 *
 * Locks: the head is the only lock a batch takes, and its reads never block (MVCC); an admin
 * change locks its key row and then the head. No cycle, so replicas never deadlock, and the
 * chain stays linear: every append either holds the head lock or checks the head it follows.
 *
 * Head MAC (src/audit/head-mac.ts): a batch writes the new head's tag with its records, one
 * HMAC per batch. The fast path needs no check of the old head: it writes only if the head is
 * still the one this process wrote. The locked path checks the locked head's tag (a second
 * HMAC) unless it is exactly the snapshot's head, i.e. one this process wrote.
 */
import type pg from "pg";
import { type Settled, wipeResults } from "../../audit/group-commit.js";
import { toRecord } from "../../audit/list.js";
import type { AuditRow } from "../../audit/schema.js";
import type { AuditEvent } from "../../audit/types.js";
import type { KeyRow, VersionRow } from "../../keys/rows.js";
import { type AuditMac, type LockedHead, chainedRows, headAfter, insertChained, insertIfHeadAt, lockAuditHead, requireExtendable } from "./pg-audit.js";
import { requireKeyVersionPg } from "./pg-keys.js";
import { withClient } from "./pg-tx.js";

export interface KeyVersion {
  readonly key: KeyRow;
  readonly row: VersionRow;
}

/** What a job reads through: the batch's key versions (no locks). */
export interface BatchTx {
  /** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND) */
  keyVersion(name: string, version: number): Promise<KeyVersion>;
}

/**
 * A job's part of the batch: the records to append and what its caller gets once they
 * committed (`"record"`: the first appended record). A job settles refusals itself and
 * throws only what must abort the whole batch (a database error). It may run twice (fast
 * path, then locked path), so it must do nothing but compute its output.
 */
export interface JobOutput {
  readonly events: readonly AuditEvent[];
  readonly result: Settled<unknown> | "record";
}

export type PgJob = (tx: BatchTx) => Promise<JobOutput>;

/** The head and the key versions read when it was the database's head. */
interface Snapshot {
  head: LockedHead;
  readonly versions: Map<string, KeyVersion>;
}

/** Sealed KEKs stay in a snapshot at most this long (a version destroyed through another replica). */
const SNAPSHOT_TTL_MS = 5_000;

/** Thrown by the fast path's reads for a version the snapshot lacks. */
const MISS = new Error("key version not in the snapshot");

export class PgBatchCommitter {
  readonly #pool: pg.Pool;
  readonly #mac: AuditMac;
  readonly #now: () => number;
  #snapshot: Snapshot | null = null;
  /** Another writer moved the head since our last batch: take the lock until it stops. */
  #contended = false;
  #expiry: NodeJS.Timeout | undefined;
  /** Batches written by the fast path. */
  #oneRoundTrip = 0;

  constructor(pool: pg.Pool, mac: AuditMac, now: () => number) {
    this.#pool = pool;
    this.#mac = mac;
    this.#now = now;
  }

  /** Runs `jobs` as one durable write; see the module comment. On failure, wipes their secrets and throws. */
  async commit(jobs: readonly PgJob[]): Promise<Settled<unknown>[]> {
    const fast = await this.#prepareFast(jobs);
    if (fast !== null) {
      let written: boolean;
      try {
        written = await withClient(this.#pool, (c) => insertIfHeadAt(c, fast.snapshot.head, fast.rows, fast.next.tag ?? null));
      } catch (e) {
        wipe(fast.outs);
        this.forget(); // the write's outcome is unknown
        throw e;
      }
      if (written) {
        this.#oneRoundTrip++;
        fast.snapshot.head = fast.next; // a no-op if the snapshot was dropped meanwhile
        return settle(fast.outs, fast.rows);
      }
      wipe(fast.outs);
      this.#contended = true;
    }
    return this.#locked(jobs);
  }

  get oneRoundTrip(): number {
    return this.#oneRoundTrip;
  }

  /** Drops the snapshot (after a key change made here, and on close). */
  forget(): void {
    this.#snapshot = null;
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
  }

  /** Runs the jobs on the snapshot and chains their records after its head. null: the snapshot cannot serve this batch. */
  async #prepareFast(jobs: readonly PgJob[]): Promise<{ snapshot: Snapshot; rows: AuditRow[]; next: LockedHead; outs: JobOutput[] } | null> {
    const snapshot = this.#snapshot;
    if (snapshot === null || this.#contended) return null;
    const outs: JobOutput[] = [];
    const tx: BatchTx = {
      keyVersion: (name, version) => {
        const hit = snapshot.versions.get(versionId(name, version));
        return hit === undefined ? Promise.reject(MISS) : Promise.resolve(hit);
      },
    };
    try {
      for (const job of jobs) outs.push(await job(tx));
    } catch (e) {
      wipe(outs);
      if (e === MISS) return null;
      throw e;
    }
    const rows = chainedRows(
      this.#mac,
      snapshot.head,
      outs.flatMap((o) => o.events),
      this.#now(),
    );
    if (rows.length === 0) return null; // nothing to write: the locked path commits an empty batch
    return { snapshot, rows, next: headAfter(rows, this.#mac), outs };
  }

  async #locked(jobs: readonly PgJob[]): Promise<Settled<unknown>[]> {
    const c = await this.#pool.connect();
    const outs: JobOutput[] = [];
    let broken = false;
    try {
      const head = await lockAuditHead(c, { begin: true });
      requireExtendable(this.#mac, head, { trusted: this.#snapshot?.head ?? null });
      const read = new Map<string, KeyVersion>();
      const tx = lockedTx(c, read);
      for (const job of jobs) outs.push(await job(tx));
      const rows = chainedRows(
        this.#mac,
        head,
        outs.flatMap((o) => o.events),
        this.#now(),
      );
      const next = rows.length === 0 ? head : headAfter(rows, this.#mac);
      await insertChained(c, rows, next.tag ?? null);
      await c.query("COMMIT");
      this.#renew(head, read, next);
      return settle(outs, rows);
    } catch (e) {
      wipe(outs);
      this.forget();
      await c.query("ROLLBACK").catch(() => {
        broken = true;
      });
      throw e;
    } finally {
      c.release(broken);
    }
  }

  /** After a locked batch: what it read under the lock is current as of `head`. */
  #renew(head: LockedHead, read: Map<string, KeyVersion>, next: LockedHead): void {
    const previous = this.#snapshot;
    // versions kept from before are current only if nobody else appended since our last batch
    const unmoved = previous !== null && sameHead(previous.head, head);
    this.#contended = previous !== null && !unmoved;
    const versions = unmoved ? previous.versions : new Map<string, KeyVersion>();
    for (const [id, kv] of read) versions.set(id, kv);
    this.#snapshot = { head: next, versions };
    this.#expiry ??= setTimeout(() => this.forget(), SNAPSHOT_TTL_MS).unref();
  }
}

/** Reads inside the locked transaction, once per distinct version; each success lands in `read`. */
function lockedTx(c: pg.PoolClient, read: Map<string, KeyVersion>): BatchTx {
  const reads = new Map<string, Promise<KeyVersion>>();
  return {
    keyVersion(name, version) {
      const id = versionId(name, version);
      let p = reads.get(id);
      if (p === undefined) {
        p = requireKeyVersionPg(c, name, version);
        reads.set(id, p);
        p.then((kv) => read.set(id, kv)).catch(() => undefined);
      }
      return p;
    },
  };
}

function sameHead(a: LockedHead, b: LockedHead): boolean {
  return a.seq === b.seq && a.mac.equals(b.mac);
}

function versionId(name: string, version: number): string {
  return `${name}\0${version}`;
}

function wipe(outs: readonly JobOutput[]): void {
  wipeResults(outs.flatMap((o) => (o.result === "record" ? [] : [o.result])));
}

function settle(outs: readonly JobOutput[], rows: readonly AuditRow[]): Settled<unknown>[] {
  let next = 0;
  return outs.map((o) => {
    const first = rows[next];
    next += o.events.length;
    return o.result === "record" ? { ok: true, value: toRecord(first) } : o.result;
  });
}
