import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { createLogSink } from "../../src/logs/index.js";
import { manualClock } from "../helpers/clock.js";
import { tempDir } from "../helpers/keystore.js";
import { CLI, cli } from "../cli/run-cli.js";

const root = tempDir("pipeseal-logs-cli-");
const env = { PIPESEAL_HOME: path.join(root, ".pipeseal") };
cli(["init"], env);
const segments = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".jsonl.pseal"))
        .sort()
    : [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ class: i % 3 ? "payload" : "metadata", i }));

/**
 * A log folder whose 1 s buckets ended an hour ago, in the CLI's keystore: written through the
 * library with its clock set in the past (no waiting for a bucket to be over). How prune decides
 * what is old, at each boundary, is tested in-process with a clock in prune.test.ts.
 */
async function writeHourOldLogs(dir: string, keyName: string): Promise<void> {
  const clock = manualClock(Date.now() - 3600_000);
  const ks = await openKeystore(env.PIPESEAL_HOME, { principal: "log-writer", now: clock.now });
  try {
    const sink = await createLogSink(ks, { dir, keyName, bucketMs: 1000, rotate: { maxBytes: 100 }, now: clock.now });
    for (const line of lines) {
      await sink.write(JSON.parse(line) as Record<string, unknown>);
      clock.advance(100); // ten records a bucket
    }
    await sink.close();
  } finally {
    ks.close();
  }
}

describe("pipeseal logs (built CLI)", () => {
  it("write from stdin, read back by class", () => {
    const dir = path.join(root, "app");
    const w = cli(["logs", "write", dir, "--key", "logs/app", "--max-bytes", "100", "--bucket", "1s", "--json"], env, lines.join("\n") + "\nnot json\n");
    expect(w.stderr).toBe("");
    expect(w.status, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout.toString()).records).toBe(31);
    expect(segments(dir).length).toBeGreaterThan(1); // rotated at --max-bytes
    const r = cli(["logs", "read", dir, "--class", "payload"], env);
    expect(r.status, r.stderr).toBe(0);
    const got = r.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(got).toEqual([...lines.map((l) => JSON.parse(l)).filter((x) => x.class === "payload"), { line: "not json" }]);
  });

  it("prune with a dry run first, --yes required; the buckets that are over are shredded and a surviving copy reads as shredded", async () => {
    const dir = path.join(root, "old");
    await writeHourOldLogs(dir, "logs/old");
    const backup = path.join(root, "backup");
    mkdirSync(backup);
    const first = segments(dir)[0]!;
    copyFileSync(path.join(dir, first), path.join(backup, first));
    const before = segments(dir);
    expect(before.length).toBeGreaterThan(1);
    const dry = cli(["logs", "prune", dir, "--older-than", "1s", "--dry-run", "--json"], env);
    expect(dry.status, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout.toString()).plan;
    expect(plan.delete.sort()).toEqual(before);
    expect(segments(dir)).toEqual(before);
    const unasked = cli(["logs", "prune", dir, "--older-than", "1s"], env); // no terminal: --yes is required
    expect(unasked.status).toBe(2);
    expect(unasked.stderr).toMatch(/add --yes/);
    expect(segments(dir)).toEqual(before);
    const p = cli(["logs", "prune", dir, "--older-than", "1s", "--yes"], env);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.toString()).toContain("did destroy logs/old/payload");
    expect(segments(dir)).toEqual([]);
    expect(JSON.parse(cli(["audit", "list", "--json"], env).stdout.toString()).some((a: { operation: string }) => a.operation === "logs.prune")).toBe(true);

    copyFileSync(path.join(backup, first), path.join(dir, first)); // restore from backup
    const s = cli(["logs", "read", dir, "--json"], env);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout.toString()).toBe("");
    expect(s.stderr).toContain(`${first}: shredded`);
    expect(JSON.parse(s.stderr.trim().split("\n").pop()!).shredded).toHaveLength(1);
    const direct = cli(["decrypt", path.join(backup, first), "-o", "-"], env);
    expect(direct.stderr).toContain("KEY_DESTROYED");
  }, 60_000);

  it("a writer killed with SIGKILL leaves every closed segment readable and no half-visible segment", async () => {
    const dir = path.join(root, "crash");
    const child = spawn(process.execPath, [CLI, "logs", "write", dir, "--key", "logs/crash", "--max-bytes", "400", "--class", "metadata"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "ignore", "ignore"],
    });
    const exited = new Promise((r) => child.on("exit", r));
    let sent = 0;
    for (let rounds = 0; segments(dir).length < 4 && rounds < 2000; rounds++) {
      child.stdin.write(JSON.stringify({ seq: sent++, msg: "request handled", pad: "x".repeat(40) }) + "\n");
      await sleep(5);
    }
    for (let i = 0; i < 3; i++) child.stdin.write(JSON.stringify({ seq: sent++, msg: "in the open segment" }) + "\n");
    await sleep(100);
    child.kill("SIGKILL");
    await exited;

    const visible = segments(dir);
    expect(visible.length).toBeGreaterThanOrEqual(4);
    const r = cli(["logs", "read", dir], env);
    expect(r.stderr).toBe("");
    expect(r.status, r.stderr).toBe(0);
    const seqs = r.stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i)); // a prefix, in order
    expect(seqs.length).toBeLessThan(sent); // the open segment was lost, nothing else
    for (const f of visible) expect(cli(["decrypt", path.join(dir, f), "-o", "/dev/null"], env).status).toBe(0);
    // a new writer takes over the stale lock and continues after the lost segment
    expect(cli(["logs", "write", dir, "--key", "logs/crash", "--class", "metadata"], env, '{"seq":"after"}\n').status).toBe(0);
    const again = cli(["logs", "read", dir], env).stdout.toString().trim().split("\n");
    expect(JSON.parse(again.pop()!)).toEqual({ seq: "after" });
  }, 60_000);

  it("a file or a folder that is not a log folder says so; --stream on read/prune points to --class", () => {
    const file = path.join(root, "customers.csv");
    writeFileSync(file, "a,b\n");
    for (const target of [file, root]) {
      const r = cli(["logs", "read", target], env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/is not a log folder \(no log\.json\) \[INVALID_ARGUMENT\]/);
    }
    for (const sub of ["read", "prune"]) {
      const r = cli(["logs", sub, path.join(root, "app"), "--stream", "payload"], env);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("use --class payload|metadata");
    }
    expect(cli(["logs", "read", path.join(root, "app"), "--class", "secret"], env).stderr).toContain('--class takes payload or metadata (got "secret")');
  });
});
