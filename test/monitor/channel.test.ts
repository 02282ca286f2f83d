/** Per-sink delivery with an injected clock: the rate limit holds (never drops), critical alerts skip it, failures back off, the watermark never passes what is owed. */
import { expect, test } from "vitest";
import { SinkChannel } from "../../src/monitor/sinks/channel.js";
import type { AlertSink } from "../../src/monitor/sinks/sink.js";
import { ALERT_SCHEMA, type Alert, type Severity } from "../../src/monitor/types.js";

const alert = (n: number, severity: Severity = "medium", records = 1): Alert => ({
  schema: ALERT_SCHEMA,
  id: `al_${String(n).padStart(24, "0")}`,
  detection: severity === "critical" ? "honeytoken" : "new-principal",
  severity,
  principal: `p${n}`,
  key: null,
  time: "2026-11-01T00:00:00.000Z",
  lastTime: "2026-11-01T00:00:00.000Z",
  state: "open",
  seqs: Array.from({ length: records }, (_, i) => n * 100 + i),
  seqsOmitted: 0,
  summary: "s",
  evidence: {},
});

function recorder(fail: () => boolean = () => false): AlertSink & { got: Alert[] } {
  const got: Alert[] = [];
  return {
    name: "test",
    got,
    send: async (a) => {
      if (fail()) throw new Error("down");
      got.push(a);
    },
    close: async () => undefined,
  };
}

test("rate limit: at most perMinute sends, the rest held (not dropped) and sent as tokens refill; critical alerts skip it", async () => {
  let now = 0;
  const sink = recorder();
  const notices: string[] = [];
  const ch = new SinkChannel(sink, { perMinute: 2, now: () => now, onNotice: (m) => notices.push(m) });
  for (let i = 1; i <= 5; i++) ch.offer({ alert: alert(i), changeNo: i });
  ch.offer({ alert: alert(6, "critical"), changeNo: 6 });
  await ch.pump();
  expect(sink.got.map((a) => a.principal)).toEqual(["p1", "p2", "p6"]);
  expect(ch.pending).toBe(3);
  expect(ch.lowestPending()).toBe(3);
  expect(notices.join()).toContain("3 alert(s) held back");
  now += 29_000;
  await ch.pump();
  expect(sink.got).toHaveLength(3); // less than one token refilled
  now += 1_000;
  await ch.pump();
  expect(sink.got.map((a) => a.principal)).toEqual(["p1", "p2", "p6", "p3"]);
  now += 60_000;
  await ch.pump();
  expect(sink.got.map((a) => a.principal)).toEqual(["p1", "p2", "p6", "p3", "p4", "p5"]);
  expect(ch.lowestPending()).toBeUndefined();
});

test("a newer form of a pending alert replaces it (one incident, one send), keeping its place", async () => {
  let now = 0;
  const sink = recorder();
  const ch = new SinkChannel(sink, { perMinute: 1, now: () => now });
  ch.offer({ alert: alert(1), changeNo: 1 });
  ch.offer({ alert: alert(2), changeNo: 2 });
  ch.offer({ alert: alert(2, "medium", 5), changeNo: 3 });
  await ch.pump();
  now += 60_000;
  await ch.pump();
  expect(sink.got.map((a) => [a.principal, a.seqs.length])).toEqual([
    ["p1", 1],
    ["p2", 5],
  ]);
});

test("a failing sink backs off exponentially and keeps everything pending", async () => {
  let now = 0;
  let down = true;
  let calls = 0;
  const sink = recorder(() => (calls++, down));
  const ch = new SinkChannel(sink, { now: () => now, backoff: { baseMs: 100, maxMs: 1000 } });
  ch.offer({ alert: alert(1), changeNo: 7 });
  await ch.pump();
  expect(calls).toBe(1);
  await ch.pump(); // within the backoff: no attempt
  expect(calls).toBe(1);
  now += 100;
  await ch.pump();
  expect(calls).toBe(2);
  now += 150; // the backoff doubled to 200
  await ch.pump();
  expect(calls).toBe(2);
  now += 50;
  down = false;
  await ch.pump();
  expect(sink.got).toHaveLength(1);
  expect(ch.lowestPending()).toBeUndefined();
});

test("the watermark: what the sink took, resumed per sink (a change at or below it is not owed again)", async () => {
  const sink = recorder();
  const ch = new SinkChannel(sink, { now: () => 0 }, 4);
  expect(ch.watermark()).toBe(4);
  ch.offer({ alert: alert(1), changeNo: 3 }); // taken before the restart
  expect(ch.pending).toBe(0);
  ch.offer({ alert: alert(2), changeNo: 6 });
  ch.offer({ alert: alert(3), changeNo: 7 });
  expect(ch.watermark()).toBe(5);
  await ch.pump();
  expect(sink.got.map((a) => a.principal)).toEqual(["p2", "p3"]);
  expect(ch.watermark()).toBe(7);
});

test("rewind: after the ledger was rolled back, reused change numbers are owed again", async () => {
  const sink = recorder();
  const ch = new SinkChannel(sink, { now: () => 0 }, 9);
  ch.offer({ alert: alert(1), changeNo: 4 });
  expect(ch.pending).toBe(0); // looks taken
  ch.rewind(3);
  ch.offer({ alert: alert(1), changeNo: 4 });
  await ch.pump();
  expect(sink.got.map((a) => a.principal)).toEqual(["p1"]);
});
