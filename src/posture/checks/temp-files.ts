/**
 * Temp files left behind: `.pseal-tmp-*` files (and temp folders) under the mapped stores.
 * pipeseal removes its live temp files on SIGINT, SIGTERM and SIGHUP, and the next write
 * into a folder removes a dead writer's (io/temp-files.ts), so one that stays is the trace
 * of a SIGKILL, a crash or a power cut that nothing has cleaned up since — or a write still
 * running. A decrypt's temp holds plaintext; an encrypt's holds sealed bytes.
 */
import { defineCheck, finding } from "../finding.js";
import { inventoryOf } from "../inventory.js";
import { parseTempName, pidAlive } from "../../io/temp-files.js";
import type { Answers, CheckModule, Finding } from "../types.js";

export const STRAY_TEMP = defineCheck({
  id: "PLAINTEXT-STRAY-TEMP",
  title: "Temp file left by an interrupted write",
  severity: "high",
  question: "plaintext",
  description:
    "Finds pipeseal temp files and folders (`.pseal-tmp-*`) under the mapped stores. pipeseal removes its own on SIGINT, SIGTERM and SIGHUP, and the next encrypt or decrypt into that folder removes one whose writer is gone, so one that stays was left by a SIGKILL, crash or power cut. Plaintext content (a decrypt's or a registry pull's temp): high; sealed content (an encrypt's, a log segment's): low; a temp whose writer (the pid in its name, on this machine) is still running: info (a write in progress).",
  fix: "Run any pipeseal encrypt or decrypt into that folder (it removes a dead writer's temp and says so), or delete the file (`shred -u` for plaintext); find out what killed the writer.",
});

export const tempFileChecks: CheckModule = {
  definitions: [STRAY_TEMP],
  async run(ctx) {
    const inv = await inventoryOf(ctx);
    const findings: Finding[] = [];
    const plaintext: Answers["plaintext"][number][] = [];
    for (const t of [...inv.temps].sort((a, b) => (a.abs < b.abs ? -1 : 1))) {
      const writer = parseTempName(t.abs.slice(t.abs.lastIndexOf("/") + 1));
      const running = writer !== null && writer.thisHost && pidAlive(writer.pid);
      const age = Math.max(0, Math.round((ctx.now.getTime() - t.mtimeMs) / 1000));
      if (!t.sealed) plaintext.push({ stage: t.stage, location: t.rel, kind: "temp-file", ageSeconds: age });
      findings.push(
        finding(STRAY_TEMP, {
          stage: t.stage,
          subject: t.store.id,
          location: t.rel,
          severity: running ? "info" : t.sealed ? "low" : "high",
          message: `${t.rel}: ${t.sealed ? "sealed" : "plaintext"} temp file (${t.size} bytes), ${running ? `still being written by pid ${writer.pid}` : "left by an interrupted write"}`,
          evidence: {
            bytes: t.size,
            ageSeconds: age,
            content: t.sealed ? "sealed" : "plaintext",
            writerPid: writer?.pid ?? null,
            writerOnThisHost: writer?.thisHost ?? null,
            writerRunning: running,
          },
        }),
      );
    }
    return { findings, examined: [], facts: { plaintext } };
  },
};
