import { describe, expect, test } from "vitest";
import { checkAudit } from "../../src/monitor/check.js";
import { defaultMonitorConfig, type MonitorConfig } from "../../src/monitor/config.js";
import { MonitorEngine } from "../../src/monitor/engine.js";
import { parseAuditLine } from "../../src/monitor/parse.js";
import { DETECTIONS, type Alert } from "../../src/monitor/types.js";
import { BATCH_PRINCIPALS, INCIDENT_KINDS, SYNTHETIC_HONEYTOKENS, syntheticAudit, type IncidentKind } from "./synthetic.js";

const config: MonitorConfig = { ...defaultMonitorConfig(), honeytokens: SYNTHETIC_HONEYTOKENS };
const small = { days: 24, learnDays: 14, workloads: 6, people: 6, incidentsPerKind: 2 };

async function run(seed: number, kinds?: readonly IncidentKind[], cfg = config) {
  const s = syntheticAudit({ seed, ...small, ...(kinds ? { kinds } : {}) });
  const lines = [...s.lines].map((l) => l + "\n");
  const result = await checkAudit(lines, { config: cfg, learnUntilMs: s.learnUntilMs });
  return { ...s, lines, result };
}

const covers = (a: Alert, seqs: readonly number[]) => a.seqs.some((q) => seqs.includes(q));

describe("detections on labelled synthetic streams", () => {
  test.each(INCIDENT_KINDS.map((k) => [k]))(
    "%s: exactly one alert of its kind per injected incident, and no alert outside incidents",
    async (kind) => {
      const { incidents, result } = await run(11 + INCIDENT_KINDS.indexOf(kind), [kind]);
      expect(incidents.length).toBe(2);
      for (const inc of incidents) {
        const mine = result.alerts.filter((a) => a.detection === kind && covers(a, inc.seqs));
        expect(mine, `${kind} for ${inc.principal}`).toHaveLength(1);
        expect(mine[0]!.principal).toBe(inc.principal);
        expect(mine[0]!.severity).toBe(kind === "honeytoken" ? "critical" : mine[0]!.severity);
      }
      const all = new Set(incidents.flatMap((i) => i.seqs));
      const stray = result.alerts.filter((a) => !a.seqs.some((q) => all.has(q)));
      expect(stray.map((a) => a.summary)).toEqual([]);
    },
    60_000,
  );

  test("seasonal traps stay quiet: the nightly ETL and the weekly Sunday retrain never alert", async () => {
    for (const seed of [21, 22]) {
      const { result } = await run(seed, []);
      expect(result.alerts.filter((a) => BATCH_PRINCIPALS.includes(a.principal))).toEqual([]);
      expect(result.alerts).toEqual([]);
    }
  }, 60_000);

  test("an alert names all the seqs behind it, in order, and holds no more than audit records do", async () => {
    const { incidents, result, lines } = await run(31, ["bulk-read"]);
    const alert = result.alerts.find((a) => a.detection === "bulk-read")!;
    const inc = incidents.find((i) => covers(alert, i.seqs))!;
    for (const q of inc.seqs) expect(alert.seqs).toContain(q);
    expect([...alert.seqs].sort((a, b) => a - b)).toEqual(alert.seqs);
    for (const q of alert.seqs) expect(JSON.parse(lines[q - 1]!).principal).toBe(alert.principal);
    expect(Object.keys(alert).sort()).toEqual([
      "detection",
      "evidence",
      "id",
      "key",
      "lastTime",
      "principal",
      "schema",
      "seqs",
      "seqsOmitted",
      "severity",
      "state",
      "summary",
      "time",
    ]);
    expect(alert.schema).toBe("pipeseal.alert.v1");
    expect(DETECTIONS).toContain(alert.detection);
  }, 60_000);
});

const line = (seq: number, time: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schema: "pipeseal.audit.v1",
    seq,
    time,
    principal: "svc",
    operation: "decrypt",
    key: "k",
    version: 1,
    outcome: "ok",
    errorCode: null,
    rule: null,
    object: "/d/a",
    headerHash: null,
    context: null,
    chainHash: "00",
    ...extra,
  });

describe("constructed streams", () => {
  const learn = Date.parse("2026-10-01T00:00:00Z");
  test("a honeytoken alerts even while learning, and is never learned away", () => {
    const e = new MonitorEngine({ config, learnUntilMs: learn });
    const first = e.push(parseAuditLine(line(1, "2026-09-20T10:00:00Z", { key: "prod/canary/x" }), 1));
    expect(first.map((x) => [x.type, x.alert.detection, x.alert.severity])).toEqual([["open", "honeytoken", "critical"]]);
    e.finish();
    const later = e.push(parseAuditLine(line(2, "2026-10-20T10:00:00Z", { key: "prod/canary/x" }), 2));
    expect(later.map((x) => x.alert.detection)).toEqual(["honeytoken"]);
  });

  test("a denial burst alerts once and grows; single denials do not alert", () => {
    const e = new MonitorEngine({ config, learnUntilMs: learn });
    e.push(parseAuditLine(line(1, "2026-09-20T10:00:00Z"), 1));
    const events = [];
    let seq = 2;
    events.push(...e.push(parseAuditLine(line(seq++, "2026-10-05T10:00:00Z", { outcome: "denied", errorCode: "ACCESS_DENIED" }), 1)));
    events.push(...e.push(parseAuditLine(line(seq++, "2026-10-05T12:00:00Z", { outcome: "denied", errorCode: "ACCESS_DENIED" }), 1)));
    expect(events).toEqual([]);
    for (let i = 0; i < 25; i++)
      events.push(...e.push(parseAuditLine(line(seq++, new Date(Date.parse("2026-10-06T10:00:00Z") + i * 5000).toISOString(), { outcome: "denied" }), seq)));
    events.push(...e.finish());
    expect(events.filter((x) => x.type === "open").map((x) => x.alert.detection)).toEqual(["denial-burst"]);
    const closed = events.find((x) => x.type === "close")!.alert;
    expect(closed.seqs).toHaveLength(25);
  });

  test("a suppression silences its pattern and says so; other principals still alert", () => {
    const cfg: MonitorConfig = { ...config, suppressions: [{ principal: "backfill-*", detection: "new-principal", reason: "expected backfill", index: 1 }] };
    const e = new MonitorEngine({ config: cfg, learnUntilMs: learn });
    e.push(parseAuditLine(line(1, "2026-09-20T10:00:00Z"), 1));
    const a = e.push(parseAuditLine(line(2, "2026-10-05T10:00:00Z", { principal: "backfill-7" }), 2));
    const b = e.push(parseAuditLine(line(3, "2026-10-05T10:00:00Z", { principal: "intruder" }), 3));
    expect(a.map((x) => [x.type, x.type === "suppressed" ? x.suppression.reason : ""])).toEqual([["suppressed", "expected backfill"]]);
    expect(b.map((x) => [x.type, x.alert.detection])).toEqual([["open", "new-principal"]]);
    expect(e.finish().map((x) => x.alert.principal)).toEqual(["intruder"]);
  });

  test("records already taken are skipped (a replay after a restart alerts nothing twice)", () => {
    const e = new MonitorEngine({ config, learnUntilMs: learn });
    e.push(parseAuditLine(line(5, "2026-10-05T10:00:00Z", { key: "prod/canary/x" }), 1));
    expect(e.push(parseAuditLine(line(5, "2026-10-05T10:00:00Z", { key: "prod/canary/x" }), 1))).toEqual([]);
    expect(e.push(parseAuditLine(line(4, "2026-10-05T10:00:00Z", { key: "prod/canary/x" }), 1))).toEqual([]);
  });

  test("state round-trips through JSON: the restored engine continues the same incident", () => {
    const e = new MonitorEngine({ config, learnUntilMs: learn });
    e.push(parseAuditLine(line(1, "2026-10-05T10:00:00Z", { key: "prod/canary/x" }), 1));
    const state = JSON.parse(JSON.stringify(e.toState()));
    const r = new MonitorEngine({ config, learnUntilMs: learn }, state);
    expect(r.lastSeq).toBe(1);
    expect(r.push(parseAuditLine(line(2, "2026-10-05T10:01:00Z", { key: "prod/canary/x" }), 2))).toEqual([]); // grows the open one
    const [closed] = r.finish();
    expect(closed!.alert.seqs).toEqual([1, 2]);
  });
});
