/**
 * Group commit of audited work: calls that arrive while a commit is in flight (or within the
 * same turn of the event loop) are queued and committed together in ONE transaction by the
 * store's `commit` function, so N concurrent callers pay one fsync / one COMMIT instead of N.
 * The store computes the audit chain in queue order inside that transaction.
 *
 * Contract of `commit(jobs)`: runs every job in one transaction and resolves with one
 * {@link Settled} per job, in order, only after the transaction committed. A job that is
 * refused (bad key state, bad argument) settles as an error and does not abort the others.
 * If the transaction fails, `commit` wipes whatever secret results it produced and throws;
 * every caller of that batch then rejects with AuditError(AUDIT_WRITE_FAILED): nothing is
 * released (fail closed).
 *
 * Calls made synchronously inside {@link GroupCommit.together} form one group that is never
 * split across batches, so their records commit in one transaction or not at all.
 *
 * Gathering (PostgreSQL's commit_delay, adaptive): N clients each with one request in flight
 * otherwise settle into two cohorts of N/2 (one commits while the other, just answered, is
 * still sending), so every commit carries half of them. Before a batch starts, the committer
 * waits until as many jobs are queued as were known to be active when the previous batch
 * committed (its own plus those queued meanwhile), but at most `gatherMs` and at most half
 * the previous commit's duration. A lone client never waits (its previous
 * batch had one job); when the load drops, one short wait resets the expectation.
 */
import { AuditError, isPipesealError } from "../errors.js";

export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions {
  /** Most jobs per transaction (a `together` group larger than this runs alone). Default 128. */
  readonly maxBatch?: number;
  /** Longest wait for the expected jobs before a batch starts (ms). Default 5; 0 disables. */
  readonly gatherMs?: number;
  /** Observability: called after each committed batch with its size. */
  readonly onCommit?: (jobs: number) => void;
}

/** Counters for health pages and tests. */
export interface CommitStats {
  /** Transactions committed (or failed) by the group committer. */
  readonly batches: number;
  /** Jobs they carried. */
  readonly jobs: number;
  /** The largest batch so far. */
  readonly largest: number;
  /** Batches written in one round trip from the store's snapshot (PostgreSQL; see pg-batch.ts). */
  readonly oneRoundTrip?: number;
}

interface Pending<J, R> {
  readonly job: J;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
}

export const DEFAULT_MAX_BATCH = 128;

export class GroupCommit<J, R> {
  readonly #commit: (jobs: readonly J[]) => Promise<Settled<R>[]>;
  readonly #max: number;
  readonly #onCommit: ((jobs: number) => void) | undefined;
  /** Groups waiting for the next transaction (a lone call is a group of one). */
  readonly #queue: Pending<J, R>[][] = [];
  #open: Pending<J, R>[] | null = null;
  #busy = false;
  #idle: (() => void)[] = [];
  readonly #gatherMs: number;
  /** Jobs known active when the previous batch committed, and how long its commit took (ms). */
  #expected = 1;
  #lastCommitMs = 0;
  /** Set while gathering: re-checks the queue on each arrival. */
  #onArrival: (() => void) | null = null;
  #stats = { batches: 0, jobs: 0, largest: 0 };

  constructor(commit: (jobs: readonly J[]) => Promise<Settled<R>[]>, options: GroupCommitOptions = {}) {
    const max = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError("maxBatch must be a positive integer");
    this.#commit = commit;
    this.#max = max;
    this.#onCommit = options.onCommit;
    this.#gatherMs = options.gatherMs ?? 5;
  }

  /** Queues `job`; resolves with its result once the transaction that carried it committed. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const p = { job, resolve, reject };
      if (this.#open !== null) this.#open.push(p);
      else this.#enqueue([p]);
    });
  }

  /**
   * Runs `submit` synchronously; every job it submits (without awaiting in between) commits
   * in the same transaction as the others. Nested calls join the outer group.
   */
  together<T>(submit: () => T): T {
    if (this.#open !== null) return submit();
    const group: Pending<J, R>[] = [];
    this.#open = group;
    try {
      return submit();
    } finally {
      this.#open = null;
      if (group.length > 0) this.#enqueue(group);
    }
  }

  /** Resolves once nothing is queued or committing (stores await it before closing). */
  idle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  get stats(): CommitStats {
    return { ...this.#stats };
  }

  #enqueue(group: Pending<J, R>[]): void {
    this.#queue.push(group);
    this.#onArrival?.();
    if (this.#busy) return; // the running drain picks it up when its commit is done
    this.#busy = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#gather();
        const batch = this.#take();
        const t0 = performance.now();
        await this.#runBatch(batch);
        this.#lastCommitMs = performance.now() - t0;
        // the callers known to be active: those just answered (they come back) and those that
        // queued during the commit; counting only the former would keep two cohorts apart
        this.#expected = batch.length + this.#queued();
      }
    } finally {
      this.#busy = false;
      for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /**
   * Always the rest of this loop turn (setImmediate, not a microtask: the requests read in
   * the same I/O phase, and the callers just answered, join this batch); then, if fewer jobs
   * are queued than were active at the last commit, up to min(gatherMs, last commit / 2) more.
   */
  #gather(): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        const enough = () => this.#queued() >= Math.min(this.#expected, this.#max);
        const wait = Math.min(this.#gatherMs, this.#lastCommitMs / 2);
        if (enough() || wait <= 0) return resolve();
        const done = () => {
          clearTimeout(timer);
          this.#onArrival = null;
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.#onArrival = () => {
          if (enough()) done();
        };
      });
    });
  }

  #queued(): number {
    let n = 0;
    for (const g of this.#queue) n += g.length;
    return n;
  }

  /** Whole groups, oldest first, up to maxBatch jobs (at least one group). */
  #take(): Pending<J, R>[] {
    const batch: Pending<J, R>[] = [...(this.#queue.shift() as Pending<J, R>[])];
    while (this.#queue.length > 0 && batch.length + this.#queue[0].length <= this.#max) batch.push(...(this.#queue.shift() as Pending<J, R>[]));
    return batch;
  }

  async #runBatch(batch: Pending<J, R>[]): Promise<void> {
    let results: Settled<R>[];
    try {
      results = await this.#commit(batch.map((p) => p.job));
      if (results.length !== batch.length) {
        wipeResults(results); // a broken store: release nothing it produced
        throw new Error("group commit: one result per job expected");
      }
    } catch (e) {
      this.#count(batch.length);
      const failure = asAuditFailure(e);
      for (const p of batch) p.reject(failure);
      return;
    }
    this.#count(batch.length);
    batch.forEach((p, i) => {
      const r = results[i];
      if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
  }

  #count(n: number): void {
    this.#stats = { batches: this.#stats.batches + 1, jobs: this.#stats.jobs + n, largest: Math.max(this.#stats.largest, n) };
    try {
      this.#onCommit?.(n);
    } catch {
      // an observer must not change the outcome
    }
  }
}

/** A failed batch transaction: the callers get one opaque, typed error (the driver's stays in `cause`). */
export function asAuditFailure(e: unknown): AuditError {
  if (e instanceof AuditError) return e;
  return new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
}

/** Errors a job settles with (a refusal); anything else aborts the whole batch. */
export function isRefusal(e: unknown): boolean {
  return isPipesealError(e) && !(e instanceof AuditError);
}

/** Runs one job inside a batch: a refusal settles it; any other error aborts the batch. */
export function settleJob<R>(run: () => R): Settled<R> {
  try {
    return { ok: true, value: run() };
  } catch (e) {
    if (isRefusal(e)) return { ok: false, error: e };
    throw e;
  }
}

/** Zeroes the secret results of a batch that will not be released. */
export function wipeResults(results: readonly Settled<unknown>[]): void {
  for (const r of results) if (r.ok && r.value instanceof Uint8Array) r.value.fill(0);
}
