import { describe, expect, test } from "vitest";
import { checkAudit } from "../../src/monitor/check.js";
import { defaultMonitorConfig, type MonitorConfig } from "../../src/monitor/config.js";
import type { Alert, DetectionId } from "../../src/monitor/types.js";
import { prng } from "../helpers/prng.js";

// Hand-built streams (not the synthetic generator): two weeks of learning, two of evaluation,
// a few principals with plain habits, and incidents placed by hand, so each assertion says
// exactly which records must alert and which must not.

const START = Date.parse("2026-09-28T00:00:00Z"); // a Monday
const H = 3_600_000;
const M = 60_000;
const DAY = 24 * H;
const LEARN_UNTIL = START + 14 * DAY;
const config: MonitorConfig = {
  ...defaultMonitorConfig(),
  honeytokens: { keys: ["prod/canary/*"], objects: ["*/decoy-*"], contexts: { dataset: ["payroll-archive"] } },
};

interface Ev {
  t: number;
  principal: string;
  key: string | null;
  object: string | null;
  context: Record<string, string> | null;
  outcome?: "ok" | "denied";
  operation?: string;
  incident?: number;
}

const ev = (t: number, principal: string, key: string, object: string, context: Record<string, string> | null, extra: Partial<Ev> = {}): Ev => ({
  t,
  principal,
  key,
  object,
  context,
  ...extra,
});

/** 28 days of normal use; the seasonal jobs drift by up to ±12 minutes around their hour. */
function normal(days = 28): Ev[] {
  const rand = prng(5);
  const out: Ev[] = [];
  for (let d = 0; d < days; d++) {
    const day = START + d * DAY;
    const dow = new Date(day).getUTCDay();
    // a 24/7 service: one read every 5 minutes
    for (let i = 0; i < 288; i++) out.push(ev(day + i * 5 * M + 7_000, "svc", "prod/a", `/data/a/part-${i % 50}`, { dataset: "a", tenant: "acme" }));
    // a person: weekdays 09:00–17:00, one read every 10 minutes
    if (dow >= 1 && dow <= 5)
      for (let i = 0; i < 48; i++) out.push(ev(day + 9 * H + i * 10 * M + 30_000, "alice@corp", "prod/b", `/data/b/p-${i % 30}`, { dataset: "b" }));
    // nightly ETL at 02:00 ± 12 min: 1,500 distinct objects in 25 minutes
    const etl = day + 2 * H + Math.round((rand() - 0.5) * 24) * M;
    for (let i = 0; i < 1500; i++)
      out.push(ev(etl + Math.floor((i / 1500) * 25 * M), "etl", "prod/raw", `/data/raw/${d}-${i}`, { dataset: "raw", stage: "landing" }));
    // weekly Sunday retrain at 03:00 ± 12 min: 3,000 objects in 40 minutes
    if (dow === 0) {
      const rt = day + 3 * H + Math.round((rand() - 0.5) * 24) * M;
      for (let i = 0; i < 3000; i++)
        out.push(ev(rt + Math.floor((i / 3000) * 40 * M), "retrain", "prod/feat", `/data/feat/${i}`, { dataset: "feat", stage: "training" }));
    }
    // a daily audit export, a weekly rotation, one single denial a day
    out.push({ t: day + 6 * H, principal: "auditor", key: null, object: null, context: null, operation: "audit.export" });
    if (dow === 1) out.push({ t: day + 10 * H, principal: "keyadmin", key: "prod/a", object: null, context: null, operation: "key.rotate" });
    out.push(ev(day + 14 * H + 20 * M, "svc", "prod/a", "/data/a/part-1", { dataset: "a", tenant: "acme" }, { outcome: "denied" }));
  }
  return out;
}

/** Evaluation days start at day 14 (Monday 2026-10-12). `at(day, hour, minute)` is inside them. */
const at = (day: number, hour: number, minute = 0) => START + day * DAY + hour * H + minute * M;

const INCIDENTS: Record<Exclude<DetectionId, never>, (n: number, day: number) => Ev[]> = {
  "new-principal": (n, day) =>
    n === 0
      ? Array.from({ length: 10 }, (_, i) => ev(at(day, 11) + i * 20_000, "intruder", "prod/a", `/data/a/part-${i}`, { dataset: "a", tenant: "acme" }))
      : Array.from({ length: 5 }, (_, i) => ev(at(day, 11) + i * 30_000, "alice@corp", "prod/a", `/data/a/part-${i}`, { dataset: "a", tenant: "acme" })),
  "volume-spike": (_n, day) =>
    Array.from({ length: 400 }, (_, i) => ev(at(day, 11, 10) + i * 3000, "svc", "prod/a", `/data/a/part-${i % 50}`, { dataset: "a", tenant: "acme" })),
  "off-hours": (_n, day) => Array.from({ length: 5 }, (_, i) => ev(at(day, 3) + i * 60_000, "alice@corp", "prod/b", `/data/b/p-${i}`, { dataset: "b" })),
  "new-context": (n, day) =>
    Array.from({ length: 3 }, (_, i) =>
      ev(
        at(day, 11, 5) + i * 45_000,
        n === 0 ? "alice@corp" : "svc",
        n === 0 ? "prod/b" : "prod/a",
        n === 0 ? `/data/b/p-${i}` : `/data/a/part-${i}`,
        n === 0 ? { dataset: "hr" } : { dataset: "a", tenant: "hooli" },
      ),
    ),
  "bulk-read": (_n, day) =>
    Array.from({ length: 400 }, (_, i) => ev(at(day, 11, 2) + i * 1200, "alice@corp", "prod/b", `/data/b/x-${day}-${i}`, { dataset: "b" })),
  "denial-burst": (_n, day) =>
    Array.from({ length: 25 }, (_, i) =>
      ev(at(day, 11) + i * 5000, "svc", "prod/a", "/data/a/part-1", { dataset: "a", tenant: "acme" }, { outcome: "denied" }),
    ),
  honeytoken: (n, day) => [
    n === 0
      ? ev(at(day, 11), "alice@corp", "prod/b", "/data/b/decoy-1.csv.pseal", { dataset: "b" })
      : ev(at(day, 11), "svc", "prod/canary/x", "/data/a/part-1", { dataset: "a", tenant: "acme" }),
  ],
};

/** The stream as export lines, with the seqs of each incident. */
function build(events: Ev[]): { lines: string[]; incidents: Map<number, number[]> } {
  events.sort((a, b) => a.t - b.t);
  const incidents = new Map<number, number[]>();
  const lines = events.map((e, i) => {
    const seq = i + 1;
    if (e.incident !== undefined) incidents.set(e.incident, [...(incidents.get(e.incident) ?? []), seq]);
    const outcome = e.outcome ?? "ok";
    return (
      JSON.stringify({
        schema: "pipeseal.audit.v1",
        seq,
        time: new Date(e.t).toISOString(),
        principal: e.principal,
        operation: e.operation ?? "decrypt",
        key: e.key,
        version: e.key ? 1 : null,
        outcome,
        errorCode: outcome === "ok" ? null : "ACCESS_DENIED",
        rule: null,
        object: e.object,
        headerHash: null,
        context: e.context,
        chainHash: "00",
      }) + "\n"
    );
  });
  return { lines, incidents };
}

const run = (lines: string[]) => checkAudit(lines, { config, learnUntilMs: LEARN_UNTIL });
const covers = (a: Alert, seqs: readonly number[]) => a.seqs.some((q) => seqs.includes(q));

describe("each detection on a constructed stream", () => {
  test.each(Object.keys(INCIDENTS).map((k) => [k as DetectionId]))(
    "%s: exactly one alert per incident, covering all its records; nothing else alerts",
    async (kind) => {
      const events = normal();
      // two incidents of the kind, a week apart (Wednesday of each evaluation week, Tuesday for off-hours)
      const days = kind === "off-hours" ? [15, 22] : [16, 23];
      days.forEach((day, n) => events.push(...INCIDENTS[kind](n, day).map((e) => ({ ...e, incident: n }))));
      const { lines, incidents } = build(events);
      const { alerts } = await run(lines);
      for (const [n, seqs] of incidents) {
        const mine = alerts.filter((a) => a.detection === kind && covers(a, seqs));
        expect(mine, `${kind} incident ${n}`).toHaveLength(1);
        for (const q of seqs) expect(mine[0]!.seqs).toContain(q);
        expect(mine[0]!.state).toBe("closed");
      }
      expect(alerts.filter((a) => a.detection === kind)).toHaveLength(2);
      const all = [...incidents.values()].flat();
      expect(alerts.filter((a) => !covers(a, all)).map((a) => a.summary)).toEqual([]);
    },
  );

  test("the seasonal traps and the rest of normal use stay quiet for two weeks of evaluation", async () => {
    const { alerts } = await run(build(normal()).lines);
    expect(alerts.map((a) => a.summary)).toEqual([]);
  });

  test("a seasonal job run at the wrong time is not normal: the nightly ETL at 14:00 alerts", async () => {
    const events = normal();
    const seqs = Array.from({ length: 1500 }, (_, i) =>
      ev(at(17, 14) + i * 1000, "etl", "prod/raw", `/data/raw/odd-${i}`, { dataset: "raw", stage: "landing" }, { incident: 0 }),
    );
    const { lines, incidents } = build([...events, ...seqs]);
    const { alerts } = await run(lines);
    const hit = alerts.filter((a) => covers(a, incidents.get(0)!)).map((a) => a.detection);
    expect(hit).toContain("volume-spike");
    expect(hit).toContain("off-hours");
  });
});
