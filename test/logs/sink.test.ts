import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { inspectFile } from "../../src/envelope/inspect.js";
import { decodeHeader } from "../../src/envelope/header.js";
import { LogSegmentError, createLogSink, readLogs, scanFolder, readManifest } from "../../src/logs/index.js";
import { DAY, T0, clockedKeystore, readAll } from "./helpers.js";

const visible = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl.pseal"))
    .sort();

describe("log sink", () => {
  it("rotates by size; every segment has its own data key; reads back every record in order", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "size");
    const sink = await createLogSink(ks, { dir, keyName: "logs/app", rotate: { maxBytes: 300 }, classification: "metadata", now });
    const sent = Array.from({ length: 40 }, (_, i) => ({ i, msg: `request ${i} served`, route: "/v1/chat" }));
    for (const r of sent) await sink.write(r);
    await sink.close();

    const files = visible(dir);
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files[0]).toBe("metadata-00000001.jsonl.pseal");
    const infos = await Promise.all(files.map((f) => inspectFile(path.join(dir, f))));
    expect(new Set(infos.map((i) => i.headerHash)).size).toBe(files.length); // different object ids
    const wrapped = files.map((f) => Buffer.from(decodeHeader(readFileSync(path.join(dir, f))).wrappedKeys[0]!.wrapped).toString("hex"));
    expect(new Set(wrapped).size).toBe(files.length); // a fresh data key each
    expect(infos[2]!.context).toEqual({
      kind: "log",
      stream: "app",
      class: "metadata",
      segment: "3",
      opened: new Date(T0).toISOString(),
      bucket: `${new Date(T0).toISOString()}/${new Date(T0 + DAY).toISOString()}`,
    });
    expect(infos.every((i) => i.keys[0]!.keyName === "logs/app/metadata")).toBe(true);
    expect((await readAll(ks, dir)).records).toEqual(sent);
  });

  it("rotates by age and rotates the log key when a new bucket starts", async () => {
    const { ks, clock, now, root } = await clockedKeystore();
    const dir = path.join(root, "time");
    const sink = await createLogSink(ks, { dir, keyName: "logs/t", rotate: { maxAgeMs: 3600_000 }, classification: "payload", now });
    await sink.write({ n: 1 });
    clock.t += 30 * 60_000;
    await sink.write({ n: 2 }); // same segment
    clock.t += 31 * 60_000;
    await sink.write({ n: 3 }); // an hour since opening: new segment, same bucket
    clock.t = T0 + DAY + 5;
    await sink.write({ n: 4 }); // next day: new segment under a new key version
    await sink.rotateDue(); // nothing due yet
    clock.t += 3600_000;
    await sink.rotateDue(); // age reached with no writes: closed by the check
    expect(visible(dir)).toHaveLength(3);
    await sink.close();

    const scan = await scanFolder(dir, await readManifest(dir));
    expect(scan.segments.map((s) => s.keyVersion)).toEqual([1, 1, 2]);
    expect(ks.showKey("logs/t/payload").primaryVersion).toBe(2);
    expect((await readAll(ks, dir)).records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
  });

  it("routes records into payload and metadata by a field, and a restarted sink continues the numbering and the bucket's key", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "route");
    let sink = await createLogSink(ks, { dir, keyName: "logs/r", now });
    await sink.write({ class: "metadata", route: "/a", ms: 12 });
    await sink.write({ class: "payload", prompt: "hello" });
    await sink.write({ prompt: "unlabelled goes to payload" });
    await sink.close();
    sink = await createLogSink(ks, { dir, keyName: "logs/r", now });
    await sink.writeLine('{"class":"metadata","route":"/b"}');
    await sink.writeLine("plain text line");
    await sink.close();
    expect(visible(dir)).toEqual([
      "metadata-00000001.jsonl.pseal",
      "metadata-00000002.jsonl.pseal",
      "payload-00000001.jsonl.pseal",
      "payload-00000002.jsonl.pseal",
    ]);
    expect(ks.showKey("logs/r/payload").primaryVersion).toBe(1); // same bucket: no rotation on restart
    const payload = await readAll(ks, dir, { classes: ["payload"] });
    expect(payload.records).toEqual([{ class: "payload", prompt: "hello" }, { prompt: "unlabelled goes to payload" }, { line: "plain text line" }]);
    const meta = await readAll(ks, dir, { classes: ["metadata"] });
    expect(meta.records).toEqual([
      { class: "metadata", route: "/a", ms: 12 },
      { class: "metadata", route: "/b" },
    ]);
  });

  it("refuses a second writer on the same folder", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "lock");
    const sink = await createLogSink(ks, { dir, keyName: "logs/l", now });
    await expect(createLogSink(ks, { dir, keyName: "logs/l", now })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await sink.close();
    await (await createLogSink(ks, { dir, keyName: "logs/l", now })).close();
  });

  it("audits every segment open on read", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "audit");
    const sink = await createLogSink(ks, { dir, keyName: "logs/au", rotate: { maxBytes: 50 }, classification: "payload", now });
    for (let i = 0; i < 5; i++) await sink.write({ i, pad: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" });
    await sink.close();
    const before = ks.listAudit().length;
    await readAll(ks, dir);
    const unwraps = ks.listAudit().slice(before);
    expect(unwraps).toHaveLength(5);
    expect(unwraps.every((r) => r.keyName === "logs/au/payload" && r.outcome === "ok" && (r.objectPath ?? "").startsWith(dir))).toBe(true);
  });

  it("a tampered segment is a typed error naming the file", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "tamper");
    const sink = await createLogSink(ks, { dir, keyName: "logs/x", rotate: { maxBytes: 30 }, classification: "metadata", now });
    for (let i = 0; i < 3; i++) await sink.write({ i, text: "some metadata record" });
    await sink.close();
    const victim = path.join(dir, "metadata-00000002.jsonl.pseal");
    const bytes = readFileSync(victim);
    bytes[bytes.length - 5]! ^= 1;
    writeFileSync(victim, bytes);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of readLogs(ks, dir)) if (e.type === "record") seen.push(e.line);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(LogSegmentError);
    expect(err).toMatchObject({ code: "DECRYPT_FAILED", file: "metadata-00000002.jsonl.pseal" });
    expect(err.message).toContain("metadata-00000002.jsonl.pseal");
    expect(seen).toHaveLength(1); // the segment before it, and nothing unauthenticated
  });

  it("works as a pino destination", async () => {
    const { ks, root } = await clockedKeystore();
    const dir = path.join(root, "pino");
    const sink = await createLogSink(ks, { dir, keyName: "logs/pino", classification: { field: "kind", default: "metadata" }, timer: false });
    const dest = sink.writable();
    const logger = pino({ base: null }, dest);
    logger.info({ route: "/v1/chat", ms: 40 }, "served");
    logger.info({ kind: "payload", prompt: "what is 2+2" }, "inference");
    await new Promise<void>((resolve, reject) => dest.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const meta = await readAll(ks, dir, { classes: ["metadata"] });
    const payload = await readAll(ks, dir, { classes: ["payload"] });
    expect(meta.records).toMatchObject([{ msg: "served", route: "/v1/chat", ms: 40 }]);
    expect(payload.records).toMatchObject([{ msg: "inference", prompt: "what is 2+2" }]);
  });

  it("never writes plaintext to disk, not even in the open segment", async () => {
    const { ks, now, root } = await clockedKeystore();
    const dir = path.join(root, "plain");
    const sink = await createLogSink(ks, { dir, keyName: "logs/p", classification: "payload", segmentSize: 64, now });
    for (let i = 0; i < 200; i++) await sink.write({ secret: "CANARY-PLAINTEXT-7f3a" });
    for (const f of readdirSync(dir)) expect(readFileSync(path.join(dir, f)).includes("CANARY-PLAINTEXT-7f3a")).toBe(false);
    await sink.close();
    for (const f of readdirSync(dir)) expect(readFileSync(path.join(dir, f)).includes("CANARY-PLAINTEXT-7f3a")).toBe(false);
  });
});
