/**
 * One `monitor run` per state file: a lock file beside it (`<state>.lock`, created exclusively,
 * holding the pid). Two monitors on one state would each deliver every alert and overwrite each
 * other's baselines. A lock left by a process that is gone (SIGKILL) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { MonitorError } from "../errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** @throws MonitorError(MONITOR_LOCKED) when another live monitor holds the lock. Returns the release. */
export function lockState(stateFile: string): () => void {
  const file = `${stateFile}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new MonitorError("MONITOR_LOCKED", `another monitor (pid ${pid}) is running on ${stateFile}`);
      }
      unlinkSync(file); // left by a monitor that is gone
    }
  }
  throw new MonitorError("MONITOR_LOCKED", `cannot lock ${stateFile}`);
}
