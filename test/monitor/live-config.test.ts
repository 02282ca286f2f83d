/** monitor.yaml's live sections: sinks (rate limits, webhook identity and queue), anchors; each error names its line. */
import { describe, expect, test } from "vitest";
import { parseMonitorConfig } from "../../src/monitor/config.js";

const webhook = (extra = "") =>
  `  - kind: webhook\n    url: https://alerts.internal/hook\n    certDir: certs\n    expect: [spiffe://acme/prod/alerts]\n${extra}`;

describe("monitor.yaml live sections", () => {
  test("defaults: one stdout sink at 60/min, no anchors; paths resolve against the config's folder", () => {
    const c = parseMonitorConfig("version: 1\n", "m.yaml", "/etc/pipeseal");
    expect(c.sinks).toEqual([{ kind: "stdout", perMinute: 60 }]);
    expect(c.anchors).toBeNull();
    expect(c.state.file).toBe("/etc/pipeseal/monitor.state.pseal");
    const d = parseMonitorConfig(
      `version: 1\nsinks:\n${webhook("    perMinute: 5\n    queue: { file: q.pseal, maxAlerts: 3 }\n")}anchors: { every: 1h, dir: anchors }\n`,
      "m.yaml",
      "/etc/pipeseal",
    );
    expect(d.sinks[0]).toEqual({
      kind: "webhook",
      perMinute: 5,
      url: "https://alerts.internal/hook",
      certDir: "/etc/pipeseal/certs",
      expect: ["spiffe://acme/prod/alerts"],
      queueFile: "/etc/pipeseal/q.pseal",
      queueMax: 3,
    });
    expect(d.anchors).toEqual({ everySeconds: 3600, dir: "/etc/pipeseal/anchors" });
  });

  test.each([
    [`version: 1\nsinks:\n${webhook()}${webhook()}`, "m.yaml:3: two webhook sinks share the queue file monitor.webhook-queue.pseal"],
    [`version: 1\nsinks:\n  - { kind: stdout, perMinute: 0 }\n`, "m.yaml:3: sink perMinute"],
    [`version: 1\nsinks:\n  - { kind: syslog, protocol: quic }\n`, "m.yaml:3: syslog protocol"],
    [
      `version: 1\nsinks:\n  - { kind: webhook, url: "https://a@b/x", certDir: c, expect: [spiffe://a/b/c] }\n`,
      "m.yaml:3: webhook url must be https://host[:port]/path, without user:password@",
    ],
    [`version: 1\nanchors: { every: soon, dir: a }\n`, "m.yaml:2:"],
    [`version: 1\nanchors: { dir: a }\n`, "m.yaml:2: anchors needs every"],
  ])("%j is MONITOR_CONFIG_INVALID naming the line", (text, message) => {
    expect(() => parseMonitorConfig(text, "m.yaml", "/tmp")).toThrow(
      expect.objectContaining({ code: "MONITOR_CONFIG_INVALID", message: expect.stringContaining(message) }),
    );
  });
});
