import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { parseMonitorConfig } from "../../src/monitor/config.js";
import { readAuditRecords } from "../../src/monitor/parse.js";
import { auditExportLine } from "../../src/audit/export.js";
import { freshKeystore } from "../helpers/keystore.js";

async function all(text: string) {
  const out = [];
  for await (const r of readAuditRecords(Readable.from([Buffer.from(text)]))) out.push(r);
  return out;
}

const ok = (seq: number) =>
  JSON.stringify({
    schema: "pipeseal.audit.v1",
    seq,
    time: "2026-10-01T00:00:00.000Z",
    principal: "p",
    operation: "decrypt",
    key: "k",
    version: 1,
    outcome: "ok",
    errorCode: null,
    rule: null,
    object: null,
    headerHash: null,
    context: { a: "b" },
    chainHash: "00",
  });

describe("audit lines", () => {
  test("reads what `audit export` writes, records of a real keystore included", async () => {
    const { ks } = await freshKeystore(["k"]);
    ks.appendAuditEvent({ operation: "decrypt", principal: "x", outcome: "ok", keyName: "k", keyVersion: 1, context: { dataset: "d" } });
    const text = ks.listAudit().map(auditExportLine).join("");
    const recs = await all(text);
    expect(recs.at(-1)).toMatchObject({ principal: "x", operation: "decrypt", key: "k", context: { dataset: "d" } });
  });

  test.each([
    ["not json", `${ok(1)}\n{oops\n`, "audit line 2: not JSON"],
    ["wrong schema", `${ok(1).replace("audit.v1", "audit.v0")}\n`, "audit line 1: schema"],
    ["mistyped seq", `${ok(1).replace('"seq":1', '"seq":"1"')}\n`, 'audit line 1: "seq"'],
    ["bad time", `${ok(1).replace("2026-10-01T00:00:00.000Z", "yesterday")}\n`, 'audit line 1: "time"'],
    ["bad outcome", `${ok(1).replace('"ok"', '"maybe"')}\n`, 'audit line 1: "outcome"'],
    ["context of numbers", `${ok(1).replace('{"a":"b"}', '{"a":1}')}\n`, 'audit line 1: "context"'],
    ["seq going back", `${ok(2)}\n\n${ok(1)}\n`, "audit line 3: seq 1 does not follow seq 2"],
    ["an array", `[1]\n`, "audit line 1: not a JSON object"],
  ])("%s is a typed error naming the line", async (_n, text, message) => {
    await expect(all(text)).rejects.toMatchObject({ code: "MONITOR_INPUT_INVALID", message: expect.stringContaining(message) });
  });

  test("lines split across chunks and a last line without a newline", async () => {
    const text = `${ok(1)}\n${ok(2)}`;
    const out = [];
    for await (const r of readAuditRecords(Readable.from([...Buffer.from(text)].map((b) => Buffer.from([b]))))) out.push(r.seq);
    expect(out).toEqual([1, 2]);
  });
});

describe("monitor.yaml", () => {
  test("defaults, and thresholds from the file", () => {
    const c = parseMonitorConfig(
      'version: 1\ndetections:\n  volume-spike: { factor: 6 }\nhoneytokens:\n  keys: ["prod/canary/*"]\n  contexts: { dataset: [payroll-archive] }\n',
      "m.yaml",
      "/tmp",
    );
    expect(c.volume).toEqual({ factor: 6, minCount: 50 });
    expect(c.honeytokens.contexts).toEqual({ dataset: ["payroll-archive"] });
    expect(c.bulkRead.windowSeconds).toBe(600);
    expect(c.state.file).toBe("/tmp/monitor.state.pseal");
  });
  test.each([
    ["version: 1\nbogus: 1\n", "m.yaml:2: unknown top-level key"],
    ["version: 1\ndetections:\n  volume-spike:\n    factor: lots\n", "m.yaml:4: volume-spike.factor"],
    ["version: 1\nsuppressions:\n  - { principal: x, detection: honeytoken, reason: r }\n", "m.yaml:3: a honeytoken alert cannot be suppressed"],
    ["version: 1\nsuppressions:\n  - { principal: x }\n", "m.yaml:3: a suppression needs a reason"],
    ["version: 1\ndetections:\n  honeytoken: { enabled: false }\n", "m.yaml:3: the honeytoken detection cannot be turned off"],
    ['version: 1\nsinks:\n  - { kind: webhook, url: "http://x" }\n', "m.yaml:3: webhook url"],
    ["a: [\n", "m.yaml:"],
  ])("%j is a typed error with file:line", (text, message) => {
    expect(() => parseMonitorConfig(text, "m.yaml", "/tmp")).toThrow(
      expect.objectContaining({ code: "MONITOR_CONFIG_INVALID", message: expect.stringContaining(message) }),
    );
  });
});
