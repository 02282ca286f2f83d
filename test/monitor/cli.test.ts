import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";
import { syntheticAudit } from "./synthetic.js";

test("monitor check: alerts as JSON lines and exit 8; a table escapes control characters; bad input is exit 2 naming the line", () => {
  const dir = tempDir();
  const s = syntheticAudit({ seed: 41, days: 20, learnDays: 14, workloads: 4, people: 4, incidentsPerKind: 1, kinds: ["honeytoken", "new-principal"] });
  const audit = path.join(dir, "audit.jsonl");
  writeFileSync(audit, [...s.lines].join("\n") + "\n");
  const cfg = path.join(dir, "monitor.yaml");
  writeFileSync(cfg, 'version: 1\nhoneytokens:\n  keys: ["prod/canary/*"]\n  objects: ["*/decoy-*"]\n  contexts: { dataset: [payroll-archive] }\n');
  const r = cli(["monitor", "check", "--audit", audit, "--config", cfg, "--learn-until", new Date(s.learnUntilMs).toISOString(), "--json"], {});
  expect(r.stderr).toBe("");
  expect(r.status).toBe(8);
  const alerts = r.stdout
    .toString()
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(alerts.map((a) => a.detection).sort()).toEqual(["honeytoken", "new-principal"]);
  expect(alerts.find((a) => a.detection === "honeytoken").severity).toBe("critical");

  const evil = path.join(dir, "evil.jsonl");
  const line = (seq: number, principal: string, time: string) =>
    JSON.stringify({
      schema: "pipeseal.audit.v1",
      seq,
      time,
      principal,
      operation: "decrypt",
      key: "prod/canary/x",
      version: 1,
      outcome: "ok",
      errorCode: null,
      rule: null,
      object: null,
      headerHash: null,
      context: null,
      chainHash: "00",
    });
  writeFileSync(evil, line(1, "ok", "2026-10-01T00:00:00Z") + "\n" + line(2, "x\u001b[2Jy", "2026-10-20T00:00:00Z") + "\n");
  const t = cli(["monitor", "check", "--audit", evil], {});
  expect(t.status).toBe(8);
  expect(t.stdout.toString()).not.toContain("\u001b");
  expect(t.stdout.toString()).toContain("x\\u001b[2Jy");

  writeFileSync(evil, line(1, "ok", "2026-10-01T00:00:00Z") + "\n{broken\n");
  const b = cli(["monitor", "check", "--audit", "-"], {}, line(1, "ok", "2026-10-01T00:00:00Z") + "\n{broken\n");
  expect(b.status).toBe(2);
  expect(b.stderr).toBe("pipeseal: audit line 2: not JSON [MONITOR_INPUT_INVALID]\n");
  const none = cli(["monitor", "check", "--audit", "-"], {}, line(1, "ok", "2026-10-01T00:00:00Z").replace("prod/canary/x", "k") + "\n");
  expect(none.status).toBe(0);
}, 60_000);
