/**
 * The stale-temp sweep removes only pipeseal's own leftovers from dead writers: not a live
 * writer's, not another host's, not a file outside the name pattern, never through a symbolic
 * link; and a registered temp is removed by removeLiveTempsSync without touching a target.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  isStaleTemp,
  liveTemps,
  onStaleTempRemoved,
  parseTempName,
  removeLiveTempsSync,
  removeStaleTemps,
  tempPathFor,
  trackTemp,
} from "../../src/io/temp-files.js";
import { writeAtomic, once } from "../../src/io/atomic.js";
import { tempDir } from "../helpers/keystore.js";

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

describe("temp files", () => {
  it("names carry this host's tag and pid, and parse back", () => {
    const t = path.basename(tempPathFor("/x/model.bin"));
    expect(t).toMatch(/^\.pseal-tmp-model\.bin\.[0-9a-f]{8}\.\d+\.[0-9a-f]{12}$/);
    expect(parseTempName(t)).toMatchObject({ pid: process.pid, thisHost: true });
    expect(parseTempName(".pseal-tmp-notes.txt")).toBeNull();
    expect(path.basename(tempPathFor("/x/" + "a".repeat(250))).length).toBeLessThan(200); // under NAME_MAX
  });

  it("the sweep removes a dead writer's file and folder; keeps live, foreign-host, unpatterned and symlinked ones", async () => {
    const dir = tempDir("pipeseal-temps-");
    const dead = deadPid();
    const host = parseTempName(path.basename(tempPathFor("/x/y")))!.host;
    const name = (base: string, pid: number, h = host) => `.pseal-tmp-${base}.${h}.${pid}.0123456789ab`;
    writeFileSync(path.join(dir, name("dead-file", dead)), "plaintext");
    mkdirSync(path.join(dir, name("dead-pull", dead)));
    writeFileSync(path.join(dir, name("dead-pull", dead), "weights.bin"), "plaintext");
    const keep = [
      name("live", process.ppid),
      name("other-host", dead, host === "00000000" ? "11111111" : "00000000"),
      ".pseal-tmp-notes.txt",
      name("link", dead),
    ];
    for (const k of keep.slice(0, 3)) writeFileSync(path.join(dir, k), "x");
    const victim = path.join(dir, "victim.txt");
    writeFileSync(victim, "must survive");
    symlinkSync(victim, path.join(dir, name("link", dead)));
    const reported: [string, number][] = [];
    const off = onStaleTempRemoved((f, pid) => reported.push([path.basename(f), pid]));
    const removed = await removeStaleTemps(dir);
    off();
    expect(removed.map((f) => path.basename(f)).sort()).toEqual([name("dead-file", dead), name("dead-pull", dead)].sort());
    expect(reported.map(([, pid]) => pid)).toEqual([dead, dead]);
    expect(readdirSync(dir).sort()).toEqual([...keep, "victim.txt"].sort());
    expect(await removeStaleTemps(dir)).toEqual([]); // once per folder per process
  });

  it("this process's own pid: stale only if not registered as live", () => {
    const dir = tempDir("pipeseal-temps-own-");
    const mine = tempPathFor(path.join(dir, "out"));
    writeFileSync(mine, "x");
    expect(isStaleTemp(mine)).toEqual({ pid: process.pid, dir: false }); // e.g. a reused pid after a SIGKILL
    const untrack = trackTemp(mine);
    expect(isStaleTemp(mine)).toBeNull();
    expect(liveTemps()).toContain(mine);
    expect(removeLiveTempsSync()).toEqual([mine]);
    expect(existsSync(mine)).toBe(false);
    untrack();
  });

  it("writeAtomic registers its temp only while writing; the finished target is never removed", async () => {
    const dir = tempDir("pipeseal-temps-atomic-");
    const target = path.join(dir, "out.txt");
    let seen: string[] = [];
    async function* chunks() {
      yield Buffer.from("a");
      seen = liveTemps().filter((t) => t.startsWith(dir));
      yield Buffer.from("b");
    }
    await writeAtomic(target, chunks());
    expect(seen).toHaveLength(1);
    expect(liveTemps().filter((t) => t.startsWith(dir))).toEqual([]);
    removeLiveTempsSync();
    await writeAtomic(path.join(dir, "second.txt"), once("c"));
    expect(readdirSync(dir).sort()).toEqual(["out.txt", "second.txt"]);
  });
});
