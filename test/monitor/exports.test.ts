import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const line = (seq: number, time: string, key: string) =>
  JSON.stringify({
    schema: "pipeseal.audit.v1",
    seq,
    time,
    principal: "svc",
    operation: "decrypt",
    key,
    version: 1,
    outcome: "ok",
    errorCode: null,
    rule: null,
    object: "/d/a",
    headerHash: null,
    context: null,
    chainHash: "00",
  }) + "\n";

describe("the pipeseal/monitor subpath export (built package)", () => {
  it("exposes the engine, readers and config, and they run together as a service would embed them", async () => {
    const m = await import("pipeseal/monitor");
    for (const name of [
      "MonitorEngine",
      "AuditLineReader",
      "checkAudit",
      "parseAuditLine",
      "readAuditRecords",
      "readAuditBatches",
      "defaultMonitorConfig",
      "parseMonitorConfig",
      "loadMonitorConfig",
      "honeytokenMatcher",
      "MonitorError",
    ]) {
      expect(typeof (m as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(m.DETECTIONS).toContain("honeytoken");
    const engine = new m.MonitorEngine({
      config: { ...m.defaultMonitorConfig(), honeytokens: { keys: ["prod/canary/*"], objects: [], contexts: {} } },
      learnUntilMs: Date.parse("2026-10-01T00:00:00Z"),
    });
    const reader = new m.AuditLineReader();
    const opened: string[] = [];
    const text = line(1, "2026-09-20T10:00:00.000Z", "k") + line(2, "2026-10-02T10:00:00.000Z", "prod/canary/x");
    // split mid-line, as a socket delivers it
    for (const part of [text.slice(0, 50), text.slice(50)])
      reader.push(Buffer.from(part), (r) => engine.push(r).forEach((e) => e.type === "open" && opened.push(e.alert.detection)));
    reader.end(() => {});
    expect(opened).toEqual(["honeytoken"]);
  });

  it("a plain Node ESM program resolves it from dist (no test transform)", () => {
    const code =
      'import { MonitorEngine } from "pipeseal/monitor"; import { fileURLToPath } from "node:url"; console.log(typeof MonitorEngine, fileURLToPath(import.meta.resolve("pipeseal/monitor")));';
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: process.cwd(), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^function .*\/dist\/monitor\/index\.js\n$/);
  });
});
