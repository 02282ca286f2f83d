/** The alert ledger on a real keystore: one revision per change, a replay changes nothing, every change and ack is an audit record. */
import { expect, test } from "vitest";
import { ackAlert, changesAfter, ensureMonitorTables, listAlerts, noteAlert, noteAlerts, openAlertsByKey } from "../../src/monitor/store/alerts.js";
import { ALERT_SCHEMA, type Alert } from "../../src/monitor/types.js";
import { freshKeystore } from "../helpers/keystore.js";

const alert = (over: Partial<Alert> = {}): Alert => ({
  schema: ALERT_SCHEMA,
  id: "al_0123456789abcdef01234567",
  detection: "volume-spike",
  severity: "medium",
  principal: "etl",
  key: "prod/k",
  time: "2026-11-01T00:00:00.000Z",
  lastTime: "2026-11-01T00:10:00.000Z",
  state: "open",
  seqs: [5, 6],
  seqsOmitted: 0,
  summary: "etl made 2 requests",
  evidence: { observed: 2 },
  ...over,
});

test("open, replay, grow, close, replay: revisions 1..3, change numbers increase, audited each time", async () => {
  const { ks } = await freshKeystore();
  ensureMonitorTables(ks);
  const audited = () => ks.listAudit().filter((r) => r.operation === "monitor.alert").length;
  expect(noteAlert(ks, alert())).toMatchObject({ revision: 1, changeNo: 1 });
  expect(noteAlert(ks, alert())).toBeNull(); // a replayed record: nothing new
  expect(noteAlert(ks, alert({ seqs: [5] }))).toBeNull(); // an older form
  expect(noteAlert(ks, alert({ seqs: [5, 6, 7] }))).toMatchObject({ revision: 2, changeNo: 2 });
  expect(noteAlert(ks, alert({ seqs: [5, 6, 7], state: "closed" }))).toMatchObject({ revision: 3, changeNo: 3 });
  expect(noteAlert(ks, alert({ seqs: [5, 6, 7, 8], state: "open" }))).toBeNull(); // an alert never reopens
  expect(audited()).toBe(3);
  const rec = ks
    .listAudit()
    .filter((r) => r.operation === "monitor.alert")
    .at(-1)!;
  expect(rec).toMatchObject({ keyName: "prod/k", objectPath: alert().id });
  expect(JSON.parse(rec.context!)).toEqual({ detection: "volume-spike", severity: "medium", subject: "etl", state: "closed", records: "3" });

  const other = alert({ id: "al_ffffffffffffffffffffffff", key: "prod/j", principal: "bob" });
  const batch = noteAlerts(ks, [other, alert({ id: "al_eeeeeeeeeeeeeeeeeeeeeeee", key: null })]);
  expect(batch.map((c) => c?.changeNo)).toEqual([4, 5]);
  expect(changesAfter(ks, 3).map((c) => c.alert.id)).toEqual(["al_ffffffffffffffffffffffff", "al_eeeeeeeeeeeeeeeeeeeeeeee"]);
  expect([...openAlertsByKey(ks).keys()].sort()).toEqual([null, "prod/j", "prod/k"].sort());

  const acked = ackAlert(ks, other.id, "known batch", Date.parse("2026-11-02T00:00:00Z"));
  expect(acked.ack).toEqual({ time: "2026-11-02T00:00:00.000Z", by: "tester", note: "known batch" });
  expect(listAlerts(ks, { unacked: true }).map((s) => s.alert.id)).not.toContain(other.id);
  expect(ks.listAudit().filter((r) => r.operation === "monitor.ack")).toHaveLength(1);
  expect(() => ackAlert(ks, "al_not-an-id", "x")).toThrow(expect.objectContaining({ code: "MONITOR_ALERT_NOT_FOUND" }));
  expect(() => ackAlert(ks, other.id, "two\nlines")).toThrow(expect.objectContaining({ code: "MONITOR_INPUT_INVALID" }));
  expect(ks.verifyAudit().ok).toBe(true);
});
