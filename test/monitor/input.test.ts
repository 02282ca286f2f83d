import { writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { checkAudit } from "../../src/monitor/check.js";
import { defaultMonitorConfig } from "../../src/monitor/config.js";
import { MAX_LINE_BYTES, readAuditRecords } from "../../src/monitor/parse.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

const line = (seq: number, principal = "svc") =>
  JSON.stringify({
    schema: "pipeseal.audit.v1",
    seq,
    time: new Date(Date.parse("2026-10-01T00:00:00Z") + seq * 1000).toISOString(),
    principal,
    operation: "decrypt",
    key: "k",
    version: 1,
    outcome: "ok",
    errorCode: null,
    rule: null,
    object: "/d/a",
    headerHash: null,
    context: { dataset: "d" },
    chainHash: "00",
  }) + "\n";
const lines = (n: number, from = 1) => Array.from({ length: n }, (_, i) => line(from + i)).join("");
const config = defaultMonitorConfig();
/** The whole text as one buffer, re-chunked at `size` bytes (chunk edges fall mid-line and mid-character). */
const chunked = (text: string, size: number) => {
  const b = Buffer.from(text);
  return Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));
};

describe("malformed audit input deep in a large stream", () => {
  test.each([
    ["not JSON", "{broken\n", "not JSON"],
    ["a wrong schema", line(1).replace("audit.v1", "audit.v9"), "schema"],
    ["a seq going back", line(3), "seq 3 does not follow"],
    ["a bad time", line(1).replace(/"time":"[^"]+"/, '"time":"2026-10-01T00:00:00.000Z (noon)"'), '"time"'],
  ])("%s is MONITOR_INPUT_INVALID naming its line, across 1 MiB and odd-sized chunks", async (_what, bad, message) => {
    const text = lines(30_000) + bad + lines(10, 40_000);
    for (const size of [1 << 20, 65_537, 4093]) {
      await expect(checkAudit(chunked(text, size), { config })).rejects.toMatchObject({
        code: "MONITOR_INPUT_INVALID",
        message: expect.stringMatching(new RegExp(`^audit line 30001: .*${message.replace(/[()"]/g, ".")}`)),
      });
    }
  });

  test("a line longer than the limit is refused with its number, without holding it whole", async () => {
    const text = lines(5) + '{"x":"' + "a".repeat(MAX_LINE_BYTES + 10) + '"}\n';
    await expect(checkAudit(chunked(text, 1 << 20), { config })).rejects.toMatchObject({
      code: "MONITOR_INPUT_INVALID",
      message: expect.stringContaining("audit line 6: longer than"),
    });
  });

  test("multibyte characters split across chunk and decode boundaries are read intact", async () => {
    // records of ~250 bytes with a 2-byte and a 4-byte character, so some fall on every 64 KiB boundary
    const text = Array.from({ length: 3000 }, (_, i) => line(i + 1, `zoë-🦊-${i}`)).join("");
    for (const size of [1 << 20, 65_536, 7]) {
      const seen: string[] = [];
      for await (const r of readAuditRecords(chunked(text, size))) seen.push(r.principal);
      expect(seen).toHaveLength(3000);
      expect(seen.every((p, i) => p === `zoë-🦊-${i}`)).toBe(true);
    }
  });

  test("the CLI prints one line naming the line, exit 2, no stack trace", () => {
    const dir = tempDir();
    const file = path.join(dir, "audit.jsonl");
    writeFileSync(file, lines(20_000) + "[1,2]\n");
    const r = cli(["monitor", "check", "--audit", file], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("pipeseal: audit line 20001: not a JSON object [MONITOR_INPUT_INVALID]\n");
  });
});
