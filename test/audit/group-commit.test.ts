/**
 * GroupCommit (src/audit/group-commit.ts) against a simple reference: committing each job on
 * its own (maxBatch 1) must give every caller the same result as batching; batches are
 * bounded, groups are never split, and a failed batch fails every caller in it, closed.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { GroupCommit, type Settled, settleJob, wipeResults } from "../../src/audit/group-commit.js";
import { KeyError } from "../../src/errors.js";
import { prng } from "../helpers/prng.js";

type Job = { readonly n: number };

/** A fake store: a job is "refused" when n % 7 === 0; the transaction fails when `fail` says so. */
function committer(options: { maxBatch?: number; fail?: (jobs: readonly Job[]) => boolean } = {}) {
  const batches: number[][] = [];
  const produced: Buffer[] = [];
  const gc = new GroupCommit<Job, Buffer>(
    async (jobs) => {
      await new Promise((r) => setTimeout(r, 1)); // the commit takes a while: later calls queue
      const results: Settled<Buffer>[] = jobs.map((j) =>
        settleJob(() => {
          if (j.n % 7 === 0) throw new KeyError("KEY_DISABLED", `job ${j.n} refused`);
          const b = Buffer.alloc(4, j.n & 0xff);
          produced.push(b);
          return b;
        }),
      );
      batches.push(jobs.map((j) => j.n));
      if (options.fail?.(jobs)) {
        wipeResults(results);
        throw new Error("disk full");
      }
      return results;
    },
    options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch },
  );
  return { gc, batches, produced };
}

async function outcomes(gc: GroupCommit<Job, Buffer>, ns: number[]): Promise<string[]> {
  const settled = await Promise.allSettled(ns.map((n) => gc.submit({ n })));
  return settled.map((r) => (r.status === "fulfilled" ? `ok:${r.value.toString("hex")}` : `err:${(r.reason as { code?: string }).code}`));
}

describe("GroupCommit", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("agrees with one-commit-per-call on every caller's result, in far fewer commits", async () => {
    const rand = prng(4);
    const ns = Array.from({ length: 300 }, () => Math.floor(rand() * 1000));
    const reference = committer({ maxBatch: 1 });
    const batched = committer();
    expect(await outcomes(batched.gc, ns)).toEqual(await outcomes(reference.gc, ns));
    expect(reference.batches).toHaveLength(300);
    expect(batched.batches.length).toBeLessThanOrEqual(3);
    expect(batched.batches.flat()).toEqual(ns); // queue order = chain order
  });

  it("bounds batches and queues calls that arrive while a commit is in flight", async () => {
    const { gc, batches } = committer({ maxBatch: 16 });
    const first = gc.submit({ n: 1 });
    await new Promise((r) => setImmediate(r)); // the first commit is now in flight
    const rest = Array.from({ length: 40 }, (_, i) => gc.submit({ n: i + 2 }));
    await Promise.allSettled([first, ...rest]);
    expect(batches.map((b) => b.length)).toEqual([1, 16, 16, 8]);
    expect(gc.stats).toEqual({ batches: 4, jobs: 41, largest: 16 });
  });

  it("never splits a together() group across batches", async () => {
    const { gc, batches } = committer({ maxBatch: 5 });
    const calls: Promise<Buffer>[] = [];
    for (let g = 0; g < 10; g++) gc.together(() => [1, 2, 3].forEach((k) => calls.push(gc.submit({ n: g * 10 + k }))));
    await Promise.allSettled(calls);
    for (const b of batches) expect(b.length % 3).toBe(0);
    expect(batches.flat()).toHaveLength(30);
  });

  it("a failed batch rejects every caller in it with AUDIT_WRITE_FAILED and wipes what it produced; the next batch is unaffected", async () => {
    const { gc, produced } = committer({ fail: (jobs) => jobs.some((j) => j.n === 100) });
    const failed = await Promise.allSettled([100, 1, 2, 14].map((n) => gc.submit({ n })));
    expect(failed.map((r) => r.status === "rejected" && (r.reason as { code?: string }).code)).toEqual(Array(4).fill("AUDIT_WRITE_FAILED"));
    expect((failed[0] as PromiseRejectedResult).reason.cause.message).toBe("disk full");
    expect(produced.length).toBeGreaterThan(0);
    expect(produced.every((b) => b.every((x) => x === 0))).toBe(true);
    expect(await outcomes(gc, [3, 7])).toEqual(["ok:03030303", "err:KEY_DISABLED"]);
  });

  // Virtual time (vitest's fake timers fake setTimeout, setImmediate and performance.now, which
  // GroupCommit reads): the schedule below is the same on a loaded CI machine as on a quiet one.
  it("gathers: 16 clients with a network round trip share one commit instead of splitting into two cohorts", async () => {
    vi.useFakeTimers();
    const sizes = async (gatherMs: number) => {
      const seen: number[] = [];
      const gc = new GroupCommit<number, number>(
        async (jobs) => {
          seen.push(jobs.length);
          await new Promise((r) => setTimeout(r, 6)); // the fsync
          return jobs.map((n) => ({ ok: true, value: n }));
        },
        { gatherMs },
      );
      const end = performance.now() + 300;
      const clients = Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i % 2 === 0 ? 0 : 3)); // they start in two cohorts
          while (performance.now() < end) {
            await gc.submit(i);
            await new Promise((r) => setTimeout(r, 1)); // the answer travels, the next request comes back
          }
        }),
      );
      await vi.runAllTimersAsync();
      await clients;
      const steady = seen.slice(4);
      return steady.reduce((a, b) => a + b, 0) / steady.length;
    };
    expect(await sizes(0)).toBeLessThan(12); // cohorts of about 8
    expect(await sizes(4)).toBeGreaterThan(13); // nearly everyone in each commit
  });

  it("a lone caller never waits for company", async () => {
    vi.useFakeTimers();
    const gc = new GroupCommit<number, number>(
      async (jobs) => {
        await new Promise((r) => setTimeout(r, 2)); // the commit
        return jobs.map((n) => ({ ok: true, value: n }));
      },
      { gatherMs: 50 },
    );
    const t0 = performance.now();
    const calls = (async () => {
      for (let i = 0; i < 20; i++) await gc.submit(i);
    })();
    await vi.runAllTimersAsync();
    await calls;
    // each call pays its commit and a loop turn (a fake setImmediate is 1 virtual ms); one gather
    // wait of 50 ms would already exceed the bound
    expect(performance.now() - t0).toBeLessThan(20 * 2 + 50);
  });

  it("a store that returns the wrong number of results releases nothing: keys wiped, every caller AUDIT_WRITE_FAILED", async () => {
    const produced: Buffer[] = [];
    const gc = new GroupCommit<number, Buffer>(async (jobs) =>
      jobs.slice(1).map(() => {
        const key = Buffer.alloc(32, 0xaa);
        produced.push(key);
        return { ok: true, value: key };
      }),
    );
    const settled = await Promise.allSettled([1, 2, 3].map((n) => gc.submit(n)));
    expect(settled.map((r) => (r.status === "rejected" ? (r.reason as { code?: string }).code : "released"))).toEqual([
      "AUDIT_WRITE_FAILED",
      "AUDIT_WRITE_FAILED",
      "AUDIT_WRITE_FAILED",
    ]);
    expect(produced.length).toBeGreaterThan(0);
    for (const key of produced) expect(key.every((b) => b === 0)).toBe(true);
  });

  it("idle() waits for queued work", async () => {
    const { gc } = committer();
    let done = false;
    void gc.submit({ n: 5 }).then(() => (done = true));
    await gc.idle();
    expect(done).toBe(true);
  });
});
