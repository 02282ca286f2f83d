import path from "node:path";
import { afterAll } from "vitest";
import { initKeystore, openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import { readLogs, type ReadLogsOptions } from "../../src/logs/index.js";
import { tempDir } from "../helpers/keystore.js";

export const DAY = 86_400_000;
export const T0 = Date.parse("2024-03-01T00:00:00.000Z");

/** A real keystore sharing a settable clock with the sink (key-version times and buckets agree). */
export async function clockedKeystore(): Promise<{ ks: LocalKeystore; clock: { t: number }; now: () => number; root: string }> {
  const root = tempDir("pipeseal-logs-");
  const clock = { t: T0 };
  const now = () => clock.t;
  await initKeystore(path.join(root, "ks"));
  const ks = await openKeystore(path.join(root, "ks"), { principal: "tester", now });
  afterAll(() => ks.close());
  return { ks, clock, now, root };
}

export async function readAll(ks: LocalKeystore, dir: string, options: ReadLogsOptions = {}) {
  const records: unknown[] = [];
  const shredded: string[] = [];
  for await (const e of readLogs(ks, dir, options)) {
    if (e.type === "record") records.push(JSON.parse(e.line));
    else shredded.push(e.file);
  }
  return { records, shredded };
}
