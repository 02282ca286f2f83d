/**
 * `pipeseal --server URL --cert DIR monitor run` over a real key service on loopback (mTLS,
 * port 0), the same tests on each store (remote-sqlite.test.ts, remote-postgres.test.ts): an
 * unwrap through the service alerts within seconds; a follow is one audit record, not one per
 * poll; a non-auditor certificate is refused (403, with its denial recorded); a dropped
 * connection resumes with no gap and no duplicate; a restart resumes from the sealed state;
 * a record deleted behind the service's back is an integrity alert.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AuditRecord } from "../../src/audit/types.js";
import type { WrappedKey } from "../../src/keys/index.js";
import { type Harness, POLICY_EXPORT, runCli, WHO } from "../server/api-harness.js";
import { alertLines, waitFor } from "./live-helpers.js";
import { type Relay, monitorHost, startRelay, startRemoteMonitor } from "./remote-helpers.js";

/** A key per test, so each test's honeytoken alert is its own (an alert grows per principal × key × detection). */
export const REMOTE_KEYS = [
  "prod/datasets/live",
  "prod/datasets/drop",
  "prod/datasets/restart",
  "prod/datasets/restart-b",
  "prod/datasets/gap",
  "prod/datasets/rollback",
];

export interface RemoteStore {
  /** A harness with POLICY_EXPORT and REMOTE_KEYS. */
  start(): Promise<Harness>;
  /** Deletes audit records behind the service's back, with a connection of the test's own. */
  deleteRecords(h: Harness, seqs: number[]): Promise<void>;
}

const CTX = { dataset: "customers" };

export function remoteMonitorSuite(name: string, store: RemoteStore): void {
  describe(`monitor run --server (${name} store, built CLI)`, { timeout: 240_000 }, () => {
    let h: Harness;
    const entries = new Map<string, WrappedKey>();
    beforeAll(async () => {
      h = await store.start();
      for (const k of REMOTE_KEYS) entries.set(k, await h.keyring("trainer").wrap(k, randomBytes(32), CTX));
    }, 120_000);
    afterAll(async () => h?.close());

    /**
     * `who` opens a decoy object (monitor.yaml: `objects: ["*\/decoy-*"]`) with the data key of
     * prod/datasets/<its folder>, through the service; the seqs of the records naming the object.
     */
    const unwrap = async (who: "trainer" | "devTrainer", object: string): Promise<number[]> => {
      const key = `prod/datasets/${object.split("/")[0]}`;
      const entry = entries.get(key)!;
      const head = (await audit()).at(-1)?.seq ?? 0;
      (await h.keyring(who).unwrap(entry, CTX, { operation: "decrypt", path: object })).fill(0);
      const mine = (await audit()).filter((x) => x.seq > head && x.principal === WHO[who] && x.keyName === key && x.objectPath === object);
      expect(mine.some((x) => x.operation === "decrypt" && x.objectPath === object)).toBe(true);
      return mine.map((x) => x.seq);
    };
    const audit = (): Promise<AuditRecord[]> => h.svc.store.listAudit({ limit: 100_000 });
    const follows = async (who: string, outcome = "ok") =>
      (await audit()).filter((r) => r.operation === (outcome === "ok" ? "audit.export" : "authz.audit.export") && r.principal === who && r.outcome === outcome);
    const stopped = (stderr: string) => {
      const m = /monitor stopped at the key service's audit record (\d+): (\d+) record\(s\) read/.exec(stderr);
      expect(m, stderr).not.toBeNull();
      return { seq: Number(m![1]), read: Number(m![2]) };
    };

    test("an unwrap through the service raises the honeytoken alert within seconds; the follow is one audit record however long it runs; alerts and ack work with --server", async () => {
      const host = monitorHost(h, "live");
      const before = (await follows(WHO.auditor)).length;
      const mon = startRemoteMonitor(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config]));
      try {
        await waitFor("the state file", () => existsSync(path.join(host.dir, "monitor.state.pseal")) || mon.child.exitCode !== null);
        expect(mon.child.exitCode, mon.stderr()).toBeNull();
        const t0 = Date.now();
        const seq = await unwrap("trainer", "live/decoy-0001.csv.pseal");
        const alert = await waitFor(
          "the honeytoken alert",
          () => alertLines(host.sink).find((a) => a.detection === "honeytoken" && a.seqs.includes(seq.at(-1))),
          20_000,
        );
        expect(Date.now() - t0).toBeLessThan(5000);
        expect(alert).toMatchObject({ schema: "pipeseal.alert.v1", severity: "critical", principal: WHO.trainer, key: "prod/datasets/live", state: "open" });
        expect(alert.seqs).toEqual(seq);
        // more than a heartbeat later (the service looks for new records every 100 ms): still the one record of the follow
        await new Promise((r) => setTimeout(r, 6000));
        const mine = (await follows(WHO.auditor)).slice(before);
        expect(mine).toHaveLength(1);
        expect(JSON.parse(mine[0]!.context!)).toMatchObject({ follow: "true", afterSeq: "0", "@rule": "audit" });
        expect(new Set(alertLines(host.sink).map((a) => a.id))).toEqual(new Set([alert.id])); // one incident, one alert; nothing on the monitor's own follow
        expect(await mon.stop("SIGTERM")).toBe(0);
        const s = stopped(mon.stderr());
        expect(s.read).toBe(s.seq); // every record from 1, each once
      } finally {
        mon.child.kill("SIGKILL");
      }
      // the alert is in this host's ledger; `monitor alerts`/`ack` take the same --server prefix
      const listed = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "alerts", "--json"]));
      expect(listed.stderr).toBe("");
      const ids = listed.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).id);
      expect(ids).toEqual([alertLines(host.sink)[0]!.id]); // the ledger has the alert once, in its latest revision
      const acked = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "ack", ids[0], "--note", "canary test", "--json"]));
      expect(acked.status, acked.stderr).toBe(0);
      expect(JSON.parse(acked.stdout.toString()).ack).toMatchObject({ note: "canary test" });
      const open = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "alerts", "--open", "--json"]));
      expect(open.stdout.toString().trim()).toBe("");
    });

    test("the follow is refused for a non-auditor certificate: one line with the code, exit non-zero, and the denial is in the service's audit", async () => {
      for (const who of ["trainer", "admin"] as const) {
        const host = monitorHost(h, `refused-${who}`);
        const before = (await follows(WHO[who], "denied")).length;
        const r = await runCli(host.args(h.svc.url, h.certs[who], ["monitor", "run", "--config", host.config, "--once"]));
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/^pipeseal: .*\[ACCESS_DENIED\]\n$/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const denied = (await follows(WHO[who], "denied")).slice(before);
        expect(denied).toHaveLength(1);
        expect(denied[0]!.errorCode).toBe("ACCESS_DENIED");
        expect(existsSync(path.join(host.dir, "monitor.state.pseal"))).toBe(false);
      }
      // a certificate of another CA never gets that far
      const host = monitorHost(h, "refused-foreign");
      const r = await runCli(host.args(h.svc.url, h.certs.foreign, ["monitor", "run", "--config", host.config, "--once"]));
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    });

    test("a dropped connection resumes from the last seq: no gap, no duplicate, no integrity alert; each follow is one record", async () => {
      const relay: Relay = await startRelay(h.svc.url);
      const host = monitorHost(h, "drop");
      const before = (await follows(WHO.auditor)).length;
      const mon = startRemoteMonitor(host.args(relay.url, h.certs.auditor, ["monitor", "run", "--config", host.config]));
      try {
        const a = await unwrap("trainer", "drop/decoy-a.csv.pseal");
        await waitFor("the first alert", () => alertLines(host.sink).some((x) => x.seqs.includes(a[0])), 20_000);
        // cut the connection, keep the service unreachable while records commit, then let it back
        relay.block();
        relay.drop();
        const b = await unwrap("trainer", "drop/decoy-b.csv.pseal");
        const c = await unwrap("trainer", "drop/decoy-c.csv.pseal");
        await waitFor("the monitor noticing the drop", () => mon.stderr().includes("follow failed"), 20_000);
        relay.open();
        const d = await unwrap("trainer", "drop/decoy-d.csv.pseal");
        const last = await waitFor(
          "the grown alert",
          () =>
            alertLines(host.sink)
              .filter((x) => x.detection === "honeytoken" && x.key === "prod/datasets/drop")
              .find((x) => x.seqs.includes(d.at(-1))),
          30_000,
        );
        expect(last.seqs).toEqual([...a, ...b, ...c, ...d]); // each record once, none missed
        expect(mon.stderr()).toContain("following the key service's audit again");
        expect(await mon.stop("SIGINT")).toBe(0);
        const s = stopped(mon.stderr());
        expect(s.read).toBe(s.seq);
        expect(alertLines(host.sink).filter((x) => x.detection === "audit-integrity")).toEqual([]);
        const mine = (await follows(WHO.auditor)).slice(before);
        expect(mine.length).toBeGreaterThanOrEqual(2);
        expect(mine.length).toBeLessThanOrEqual(relay.connections); // a record per follow, not per poll
        expect(
          mine
            .map((r) => Number(JSON.parse(r.context!).afterSeq))
            .slice(1)
            .every((n) => n >= a.at(-1)!),
        ).toBe(true); // resumed from where it was
      } finally {
        mon.child.kill("SIGKILL");
        await relay.close();
      }
    });

    test("a restart resumes from the sealed state: only the new records are read, earlier alerts are not sent again", async () => {
      const host = monitorHost(h, "restart");
      const a = await unwrap("trainer", "restart/decoy-a.csv.pseal");
      const first = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config, "--once"]));
      expect(first.status, first.stderr).toBe(0);
      const s1 = stopped(first.stderr);
      expect(s1.read).toBe(s1.seq);
      const ofKey = (k: string) => alertLines(host.sink).filter((x) => x.key === `prod/datasets/${k}`);
      expect(new Set(ofKey("restart").map((x) => x.id)).size).toBe(1);
      expect(ofKey("restart").at(-1)!.seqs).toEqual(a);
      const sentFirst = alertLines(host.sink).length;

      const b = await unwrap("trainer", "restart-b/decoy-b.csv.pseal"); // while stopped
      const mon = startRemoteMonitor(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config]));
      try {
        await waitFor("the alert raised while stopped", () => ofKey("restart-b").some((x) => x.seqs.includes(b.at(-1))), 20_000);
        expect(await mon.stop("SIGTERM")).toBe(0);
      } finally {
        mon.child.kill("SIGKILL");
      }
      const s2 = stopped(mon.stderr());
      expect(s2.read).toBe(s2.seq - s1.seq); // from where the first run stopped: nothing twice, nothing skipped
      expect(ofKey("restart-b").at(-1)!.seqs).toEqual(b);
      const again = alertLines(host.sink).slice(sentFirst);
      expect(again.length).toBeGreaterThan(0);
      expect(again.every((x) => x.key === "prod/datasets/restart-b")).toBe(true); // nothing of the first run sent again
      // the state belongs to this service's audit: the same state file over the local keystore is refused
      const local = await runCli(["--home", host.home, "monitor", "run", "--config", host.config, "--once"]);
      expect(local.status).not.toBe(0);
      expect(local.stderr).toMatch(/\[MONITOR_STATE_INVALID\]\n$/);
    });

    test("records deleted behind the service's back (a seq gap) raise a critical audit-integrity alert naming the missing seq", async () => {
      const host = monitorHost(h, "gap");
      const first = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config, "--once"]));
      expect(first.status, first.stderr).toBe(0);
      const a = await unwrap("trainer", "gap/decoy-a.csv.pseal");
      const b = await unwrap("trainer", "gap/decoy-b.csv.pseal");
      const c = await unwrap("trainer", "gap/decoy-c.csv.pseal");
      await store.deleteRecords(h, b); // hide that b was read
      const second = await runCli(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config, "--once"]));
      expect(second.status, second.stderr).toBe(0);
      const integrity = alertLines(host.sink).filter((x) => x.detection === "audit-integrity");
      expect(integrity).toHaveLength(1);
      expect(integrity[0]).toMatchObject({ severity: "critical", evidence: { problem: "missing", seq: b[0] } });
      expect(integrity[0]!.summary).toContain(b.length > 1 ? `${b[0]}..${b.at(-1)}` : `${b[0]}`);
      // the records on either side of the gap were still read: the honeytoken alert has a and c, not b
      const honey = alertLines(host.sink)
        .filter((x) => x.detection === "honeytoken" && x.key === "prod/datasets/gap")
        .at(-1)!;
      expect(honey.seqs).toEqual([...a, ...c]);
    });

    // last: the service's audit ends before what was read, which the service itself then refuses to extend
    test("an audit that now ends before what the monitor read (the last records deleted) is a rolled-back integrity alert, seen by a running monitor through the heartbeats", async () => {
      const host = monitorHost(h, "rollback");
      const mon = startRemoteMonitor(host.args(h.svc.url, h.certs.auditor, ["monitor", "run", "--config", host.config]));
      try {
        const a = await unwrap("trainer", "rollback/decoy-a.csv.pseal");
        await waitFor("the alert", () => alertLines(host.sink).some((x) => x.seqs.includes(a.at(-1))), 20_000);
        const head = (await audit()).at(-1)!.seq;
        await store.deleteRecords(h, [head - 1, head]);
        // (this monitor read from the start, so it also saw the earlier test's gap: a `missing` alert of its own)
        const rolled = await waitFor(
          "the rolled-back alert",
          () => alertLines(host.sink).find((x) => x.detection === "audit-integrity" && x.evidence.problem === "rolled-back"),
          30_000,
        );
        expect(rolled).toMatchObject({ severity: "critical", evidence: { problem: "rolled-back", seq: head - 2 } });
        expect(rolled.summary).toContain(`${head}`);
        expect(await mon.stop("SIGTERM")).toBe(0);
      } finally {
        mon.child.kill("SIGKILL");
      }
    });
  });
}

export { POLICY_EXPORT };
