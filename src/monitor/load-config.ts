/** Reads monitor.yaml from disk; relative paths in it resolve against its folder. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { defaultMonitorConfig, parseMonitorConfig, type MonitorConfig } from "./config.js";
import { MonitorError } from "./errors.js";

/** No file: every default. @throws MonitorError(MONITOR_CONFIG_INVALID) */
export function loadMonitorConfig(file: string | undefined): MonitorConfig {
  if (file === undefined) return defaultMonitorConfig();
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (e) {
    throw new MonitorError("MONITOR_CONFIG_INVALID", `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseMonitorConfig(text, path.basename(abs), path.dirname(abs));
}
