/**
 * Ctrl-C stops everything: interrupted while the training job runs, the demo stops its servers
 * and the job (and the job's Python under `pipeseal run`); with --keep, Ctrl-C after the summary
 * is a clean stop. The ports it printed refuse connections afterwards and no process is left.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { processesNaming, refused } from "./evidence.js";

const DEMO = fileURLToPath(new URL("../../dist/demo/main.js", import.meta.url));
const root = mkdtempSync(path.join(tmpdir(), "pipeseal-demo-int-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the demo, sends SIGINT once `when` matches its output; resolves with its exit and output. */
function interruptWhen(args: string[], when: RegExp, afterMs: number, signal: NodeJS.Signals = "SIGINT"): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let sent = false;
    const on = (c: Buffer) => {
      out += c.toString();
      if (!sent && when.test(out)) {
        sent = true;
        setTimeout(() => child.kill(signal), afterMs);
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.on("close", (code) => resolve({ code, out }));
  });
}

const urls = (out: string) => [...new Set(out.match(/https?:\/\/127\.0\.0\.1:\d+/g) ?? [])];

it("stops the servers, the training job and its Python when interrupted mid-training", async () => {
  const dir = path.join(root, "mid");
  // the job starts right after the gateway's line; 1.5 s later its Python is importing torch
  const r = await interruptWhen(["--dir", dir], /data gateway on https:\/\/127\.0\.0\.1:\d+.*\n/, 1500);
  expect(r.code).toBe(130);
  const seen = urls(r.out);
  expect(seen.length).toBeGreaterThanOrEqual(2); // ingestion and gateway
  await new Promise((res) => setTimeout(res, 500));
  for (const u of seen) expect(await refused(u), u).toBe(true);
  expect(processesNaming(dir)).toEqual([]);
}, 120_000);

// the stopped job fails its stage before the signal handler's own exit: the status is still the signal's
it("SIGTERM while the job starts is exit 143 and says it was interrupted, not that the demo failed", async () => {
  const dir = path.join(root, "term");
  const r = await interruptWhen(["--dir", dir], /data gateway on https:\/\/127\.0\.0\.1:\d+.*\n/, 1000, "SIGTERM");
  expect(r.code).toBe(143);
  expect(r.out).not.toContain("DEMO FAILED");
  for (const u of urls(r.out)) expect(await refused(u), u).toBe(true);
  expect(processesNaming(dir)).toEqual([]);
}, 120_000);

it("with --keep --ui keeps everything up until Ctrl-C, then stops it cleanly", async () => {
  const dir = path.join(root, "keep");
  let dashboard = "";
  const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [DEMO, "--dir", dir, "--keep", "--ui"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let probed = false;
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (!probed && /--keep: servers running .*\n/.test(out)) {
        probed = true;
        dashboard = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out)![1]!;
        void (async () => {
          // still up: the dashboard answers, the mTLS servers accept TCP
          const res = await fetch(dashboard, { redirect: "manual" });
          expect(res.status).toBeLessThan(400);
          for (const u of urls(out)) expect(await refused(u), u).toBe(false);
          child.kill("SIGINT");
        })();
      }
    });
    child.on("close", (code) => resolve({ code, out }));
  });
  expect(r.code).toBe(0);
  expect(r.out).toContain("Summary: every data state at every stage");
  const seen = urls(r.out);
  expect(seen.length).toBe(4); // ingestion, gateway, inference, dashboard
  for (const u of seen) expect(await refused(u), u).toBe(true);
  expect(processesNaming(dir)).toEqual([]);
}, 180_000);
