/**
 * GET /v1/audit/follow over real mTLS (RemoteKeyring.followAudit): the records after afterSeq,
 * then each as it commits, with heartbeats carrying the head; one audit record per follow
 * however many polls; only an auditor may follow (403, the denial recorded); a bad cursor is a
 * typed 400 before any record leaves.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FollowEvent } from "../../src/client/index.js";
import type { RemoteKeyring } from "../../src/client/remote-keyring.js";
import { type Harness, POLICY_EXPORT, startHarness, WHO } from "./api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ policy: POLICY_EXPORT });
  const trainer = h.keyring("trainer");
  const e = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
  (await trainer.unwrap(e, { dataset: "raw" }, { operation: "decrypt", path: "a.pseal" })).fill(0);
});
afterAll(async () => h?.close());

const follows = async (who: string, outcome: string) =>
  (await h.svc.store.listAudit({ limit: 100_000 })).filter(
    (r) => r.operation === (outcome === "ok" ? "audit.export" : "authz.audit.export") && r.principal === who && r.outcome === outcome,
  );

/** Events of one follow until `until` says stop (then the follow is ended with its signal). */
async function take(kr: RemoteKeyring, afterSeq: number, until: (seen: FollowEvent[]) => boolean, heartbeatSeconds = 1): Promise<FollowEvent[]> {
  const ac = new AbortController();
  const seen: FollowEvent[] = [];
  for await (const ev of kr.followAudit({ afterSeq, heartbeatSeconds, signal: ac.signal })) {
    seen.push(ev);
    if (until(seen)) ac.abort();
  }
  return seen;
}

describe("audit follow (API)", () => {
  it("sends the records after afterSeq, then a new record as it commits, with heartbeats of the head; one audit record for the follow", async () => {
    const auditor = h.keyring("auditor");
    const trainer = h.keyring("trainer");
    const before = (await follows(WHO.auditor, "ok")).length;
    const e = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
    let pushed = false;
    const t0 = Date.now();
    const seen = await take(auditor, 1, (s) => {
      const beats = s.filter((x) => x.type === "heartbeat").length;
      if (beats >= 3 && !pushed) {
        pushed = true; // a commit while the follow is open, after a few heartbeats (polls)
        void trainer.unwrap(e, { dataset: "raw" }, { operation: "decrypt", path: "live.pseal" }).then((k) => k.fill(0));
      }
      return s.some((x) => x.type === "record" && JSON.parse(x.line).object === "live.pseal");
    });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const records = seen.filter((x): x is Extract<FollowEvent, { type: "record" }> => x.type === "record");
    // contiguous from afterSeq + 1, each once
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 2));
    expect(records.every((r) => /^[0-9a-f]{64}$/.test(r.chainHash) && JSON.parse(r.line).schema === "pipeseal.audit.v1")).toBe(true);
    const beats = seen.filter((x): x is Extract<FollowEvent, { type: "heartbeat" }> => x.type === "heartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(3);
    // a heartbeat's head is never below what was already sent before it
    let last = 0;
    for (const ev of seen) {
      if (ev.type === "record") last = ev.seq;
      else expect(ev.head).toBeGreaterThanOrEqual(last);
    }
    // ≥ 2 s of the service polling every 100 ms: still one record, carrying the rule and the cursor
    const mine = (await follows(WHO.auditor, "ok")).slice(before);
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]!.context!)).toEqual({ follow: "true", afterSeq: "1", "@rule": "audit" });
  });

  it("a follow again from the last seq taken gives exactly the newer records", async () => {
    const auditor = h.keyring("auditor");
    const first = await take(auditor, 0, (s) => s.some((x) => x.type === "heartbeat"));
    const lastSeq = (first.filter((x) => x.type === "record").at(-1) as { seq: number }).seq;
    const again = await take(auditor, lastSeq, (s) => s.some((x) => x.type === "heartbeat"));
    const seqs = again.filter((x) => x.type === "record").map((x) => (x as { seq: number }).seq);
    expect(seqs[0]).toBe(lastSeq + 1); // the first follow's own record, then the second's
    expect(seqs).toEqual(seqs.map((_, i) => lastSeq + 1 + i));
  });

  it("refuses a workload and a key administrator (403 ACCESS_DENIED, the denial recorded) and a bad cursor (400) before any line", async () => {
    for (const who of ["trainer", "admin"] as const) {
      const before = (await follows(WHO[who], "denied")).length;
      const err = await take(h.keyring(who), 0, () => true).then(
        () => null,
        (e: unknown) => e as { status?: number; code?: string },
      );
      expect(err).toMatchObject({ status: 403, code: "ACCESS_DENIED" });
      expect((await follows(WHO[who], "denied")).slice(before)).toHaveLength(1);
    }
    const auditor = h.keyring("auditor");
    for (const q of ["afterSeq=-1", "afterSeq=abc", "heartbeat=0", "heartbeat=301"]) {
      const err = await auditor.client.stream(`/v1/audit/follow?${q}`, "application/x-ndjson").then(
        (b) => (b.destroy(), null),
        (e: unknown) => e as { status?: number; code?: string },
      );
      expect(err, q).toMatchObject({ status: 400, code: "INVALID_ARGUMENT" });
    }
  });
});
