import { copyFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSealedFile } from "../../src/envelope/reader.js";
import type { LocalKeystore } from "../../src/keys/index.js";
import { createLogSink, pruneLogs, readManifest, scanFolder } from "../../src/logs/index.js";
import { tempDir } from "../helpers/keystore.js";
import { DAY, T0, clockedKeystore, readAll } from "./helpers.js";

const files = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl.pseal"))
    .sort();
const states = (ks: LocalKeystore, name: string) => ks.showKey(name).versions.map((v) => `v${v.version}:${v.state}`);

/** Day 0, day 1, …: one payload and one metadata record per day, each day its own bucket. */
async function writeDays(ks: LocalKeystore, clock: { t: number }, now: () => number, dir: string, days: number[]) {
  const sink = await createLogSink(ks, { dir, keyName: "logs/app", rotate: { maxBytes: 60 }, now });
  for (const d of days) {
    clock.t = T0 + d * DAY + 3600_000;
    await sink.write({ class: "payload", day: d, prompt: `prompt on day ${d}` });
    await sink.write({ class: "payload", day: d, prompt: `second prompt on day ${d}` });
    await sink.write({ class: "metadata", day: d, route: "/v1/chat" });
  }
  await sink.close();
}

describe("logs prune", () => {
  it("makes expired segments unreadable everywhere (a backup copy too) and leaves newer ones intact", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    await writeDays(ks, clock, now, dir, [0, 1, 10]);
    // payload key: v1 day 0, v2 day 1, v3 day 10 (primary); one segment each
    expect(states(ks, "logs/app/payload")).toEqual(["v1:enabled", "v2:enabled", "v3:enabled"]);
    const backup = tempDir("pipeseal-backup-");
    const old = files(dir)
      .filter((f) => f.startsWith("payload-"))
      .slice(0, 2);
    for (const f of old) copyFileSync(path.join(dir, f), path.join(backup, f)); // a backup made before the prune

    clock.t = T0 + 10 * DAY + 7200_000;
    const { plan } = await pruneLogs(ks, dir, { now });
    // day 0 and day 1 payload buckets ended ≥ 7 days ago; metadata (90 d) untouched
    expect(plan.destroy.map((d) => `${d.keyName}@${d.version}`)).toEqual(["logs/app/payload@1", "logs/app/payload@2"]);
    expect(plan.rotate).toEqual([]);
    expect(states(ks, "logs/app/payload")).toEqual(["v1:destroyed", "v2:destroyed", "v3:enabled"]);
    expect(states(ks, "logs/app/metadata")).toEqual(["v1:enabled", "v2:enabled", "v3:enabled"]);

    // the copies survive as files but can never be opened again
    for (const f of old) await expect(openSealedFile(ks, path.join(backup, f))).rejects.toMatchObject({ code: "KEY_DESTROYED" });
    // and the newer segments still open
    const left = await readAll(ks, dir);
    expect(left.shredded).toEqual([]);
    expect(left.records).toEqual([
      { class: "metadata", day: 0, route: "/v1/chat" },
      { class: "metadata", day: 1, route: "/v1/chat" },
      // segments opened at the same instant: metadata sorts before payload
      { class: "metadata", day: 10, route: "/v1/chat" },
      { class: "payload", day: 10, prompt: "prompt on day 10" },
      { class: "payload", day: 10, prompt: "second prompt on day 10" },
    ]);
    // a restored backup reads as shredded, not as a crash
    copyFileSync(path.join(backup, old[0]!), path.join(dir, old[0]!));
    expect((await readAll(ks, dir)).shredded).toEqual([old[0]]);

    // the prune was audited: one key.destroy per version
    const destroys = ks.listAudit().filter((r) => r.operation === "key.destroy");
    expect(destroys.map((r) => `${r.keyName}@${r.keyVersion}`)).toEqual(["logs/app/payload@1", "logs/app/payload@2"]);
  });

  it("shreds payload before metadata, and rotates an idle primary so the last bucket can go too", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    await writeDays(ks, clock, now, dir, [0]);
    clock.t = T0 + 8 * DAY;
    let { plan } = await pruneLogs(ks, dir, { now });
    // the only payload version is the primary: rotated away, then destroyed
    expect(plan.rotate).toEqual([{ cls: "payload", keyName: "logs/app/payload", fromVersion: 1 }]);
    expect(states(ks, "logs/app/payload")).toEqual(["v1:destroyed", "v2:enabled"]);
    expect(files(dir).every((f) => f.startsWith("metadata-"))).toBe(true);
    expect((await readAll(ks, dir)).records).toEqual([{ class: "metadata", day: 0, route: "/v1/chat" }]);

    clock.t = T0 + 91 * DAY;
    ({ plan } = await pruneLogs(ks, dir, { now }));
    expect(plan.destroy.map((d) => d.keyName)).toEqual(["logs/app/metadata"]);
    expect(files(dir)).toEqual([]);
    // the writer starts again on the fresh primaries
    await writeDays(ks, clock, now, dir, [92]);
    expect((await readAll(ks, dir)).records).toHaveLength(3);
    const scan = await scanFolder(dir, await readManifest(dir));
    expect(new Set(scan.segments.filter((s) => s.cls === "payload").map((s) => s.keyVersion))).toEqual(new Set([2]));
  });

  it("--older-than overrides the stored retention; --class (classes) limits the classes", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    await writeDays(ks, clock, now, dir, [0, 3]);
    clock.t = T0 + 3 * DAY + 7200_000;
    const { plan } = await pruneLogs(ks, dir, { now, olderThanMs: 2 * DAY, classes: ["metadata"] });
    expect(plan.destroy.map((d) => `${d.keyName}@${d.version}`)).toEqual(["logs/app/metadata@1"]);
    expect(files(dir).filter((f) => f.startsWith("payload-"))).toHaveLength(2);
    expect(files(dir).filter((f) => f.startsWith("metadata-"))).toHaveLength(1);
  });

  it("a dry run plans and changes nothing: no key state, no file, no audit record", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    await writeDays(ks, clock, now, dir, [0, 1, 10]);
    clock.t = T0 + 102 * DAY;
    const before = { files: files(dir), p: states(ks, "logs/app/payload"), m: states(ks, "logs/app/metadata"), audit: ks.listAudit().length };
    const { plan, dryRun } = await pruneLogs(ks, dir, { now, dryRun: true });
    expect(dryRun).toBe(true);
    expect(plan.destroy.length).toBe(6);
    expect(plan.delete.length).toBe(files(dir).length);
    expect({ files: files(dir), p: states(ks, "logs/app/payload"), m: states(ks, "logs/app/metadata"), audit: ks.listAudit().length }).toEqual(before);
  });

  it("destroys a version only once its whole bucket has expired", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    // a one-week bucket (epoch-aligned, so start the clock on one): day 0 and day 6 share a key version
    const W = Math.ceil(T0 / (7 * DAY)) * 7 * DAY;
    clock.t = W;
    const sink = await createLogSink(ks, { dir, keyName: "logs/app", bucketMs: 7 * DAY, rotate: { maxBytes: 10 }, classification: "payload", now });
    await sink.write({ day: 0 });
    clock.t = W + 6 * DAY;
    await sink.write({ day: 6 });
    clock.t = W + 7 * DAY;
    await sink.write({ day: 7 });
    await sink.close();
    clock.t = W + 7 * DAY + 12 * 3600_000; // day 0 is 7.5 days old, but day 6 is not yet older than 1d
    expect((await pruneLogs(ks, dir, { now, olderThanMs: DAY })).plan.destroy).toEqual([]);
    clock.t = W + 9 * DAY;
    const { plan } = await pruneLogs(ks, dir, { now, olderThanMs: DAY });
    expect(plan.destroy.map((d) => [d.version, d.files])).toEqual([[1, ["payload-00000001.jsonl.pseal", "payload-00000002.jsonl.pseal"]]]);
    expect(files(dir)).toEqual(["payload-00000003.jsonl.pseal"]);
  });

  it("does not rotate the primary away from under a live writer", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "logs");
    const sink = await createLogSink(ks, { dir, keyName: "logs/app", classification: "payload", rotate: { maxBytes: 10 }, now });
    await sink.write({ n: 1 });
    await sink.write({ n: 2 });
    clock.t = T0 + 30 * DAY;
    const live = await pruneLogs(ks, dir, { now });
    expect(live.plan.rotate).toEqual([]);
    expect(live.plan.destroy).toEqual([]);
    expect(live.plan.kept).toHaveLength(1);
    expect(live.plan.kept[0]!.reason).toContain("writer is live");
    await sink.close();
    const after = await pruneLogs(ks, dir, { now });
    expect(after.plan.rotate.map((r) => r.keyName)).toEqual(["logs/app/payload"]);
    expect(files(dir)).toEqual([]);
  });
});
