/**
 * Posture reports for the dashboard: the JSON reports `pipeseal posture check --json` writes,
 * from one file or a folder of them (the history, newest first by `generatedAt`).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { PostureReport } from "../posture/types.js";

export interface PostureEntry {
  /** The file's name (the history's id in links). */
  readonly id: string;
  readonly report: PostureReport;
}

export interface PostureSource {
  readonly description: string;
  /** Reports newest first; files that are not posture reports are skipped. */
  list(): PostureEntry[];
}

export function postureSource(location: string): PostureSource {
  return {
    description: location,
    list() {
      let files: string[];
      try {
        files = statSync(location).isDirectory()
          ? readdirSync(location)
              .filter((f) => f.endsWith(".json"))
              .map((f) => path.join(location, f))
          : [location];
      } catch {
        return [];
      }
      const out: PostureEntry[] = [];
      for (const file of files) {
        try {
          const v = JSON.parse(readFileSync(file, "utf8")) as PostureReport;
          if (v && typeof v === "object" && typeof v.generatedAt === "string" && Array.isArray(v.stages) && Array.isArray(v.findings) && v.map)
            out.push({ id: path.basename(file), report: v });
        } catch {
          // not a report: skipped (the page lists what it could read)
        }
      }
      return out.sort((a, b) => (a.report.generatedAt < b.report.generatedAt ? 1 : -1));
    },
  };
}
