import { expect, test } from "vitest";
import { defaultMonitorConfig } from "../../src/monitor/config.js";
import { MonitorEngine } from "../../src/monitor/engine.js";
import { parseAuditLine } from "../../src/monitor/parse.js";
import type { EngineState } from "../../src/monitor/state.js";

const line = (seq: number, time: string, extra: Record<string, unknown> = {}) =>
  parseAuditLine(
    JSON.stringify({
      schema: "pipeseal.audit.v1",
      seq,
      time,
      principal: "svc/a",
      operation: "decrypt",
      key: "prod/k",
      version: 1,
      outcome: "ok",
      errorCode: null,
      rule: null,
      object: "/d/a",
      headerHash: null,
      context: { dataset: "d" },
      chainHash: "00",
      ...extra,
    }),
    seq,
  );

// baselines are kept principal → key; a state keeps them as [principal \0 key, baseline]
test("a restored engine keeps each principal × key baseline, from this state format and the one before it", () => {
  const config = defaultMonitorConfig();
  const learnUntilMs = Date.parse("2026-10-01T00:00:00Z");
  const e = new MonitorEngine({ config, learnUntilMs });
  e.push(line(1, "2026-09-20T10:00:00.000Z"));
  const state = JSON.parse(JSON.stringify(e.toState())) as EngineState;
  expect(state.pks.map(([id]) => id)).toEqual(["svc/a\0prod/k"]);
  // the format before: no principal and key fields, only the id
  const older = JSON.parse(JSON.stringify(state));
  for (const [, pk] of older.pks) {
    delete pk.principal;
    delete pk.key;
  }
  for (const s of [state, older]) {
    const r = new MonitorEngine({ config, learnUntilMs }, s);
    // the learned pair is known: no new-principal; a dataset it never used is new-context on that pair
    expect(r.push(line(2, "2026-10-05T10:00:00.000Z"))).toEqual([]);
    const events = r.push(line(3, "2026-10-05T10:01:00.000Z", { context: { dataset: "hr" } }));
    expect(events.map((x) => [x.alert.detection, x.alert.principal, x.alert.key])).toEqual([["new-context", "svc/a", "prod/k"]]);
    expect(r.toState().pks.map(([id]) => id)).toEqual(["svc/a\0prod/k"]);
  }
});

// a key-service record of a delegate's request carries who asked in its context (`@delegate`, `@delegation`): not context values
test("the key service's `@` notes in a record's context are not learned or judged as context values", () => {
  const config = defaultMonitorConfig();
  const e = new MonitorEngine({ config, learnUntilMs: Date.parse("2026-10-01T00:00:00Z") });
  e.push(line(1, "2026-09-20T10:00:00.000Z"));
  const noted = { dataset: "d", "@delegate": "spiffe://acme.internal/prod/gateway", "@delegation": "gw-trainers" };
  expect(e.push(line(2, "2026-10-05T10:00:00.000Z", { context: noted }))).toEqual([]);
  // control: a new value of a real context key is still new-context
  expect(e.push(line(3, "2026-10-05T10:01:00.000Z", { context: { ...noted, dataset: "hr" } })).map((x) => x.alert.detection)).toEqual(["new-context"]);
});
