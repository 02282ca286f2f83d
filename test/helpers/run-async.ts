/**
 * A child process run to completion without blocking this worker. vitest's worker answers its
 * RPC on the event loop; a synchronous spawn longer than its 60 s RPC timeout makes vitest report
 * an unhandled error for the whole run (even with every test passing), so long children go here.
 */
import { execFile, type ExecFileOptions } from "node:child_process";

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runAsync(file: string, args: string[], options: ExecFileOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options, encoding: "utf8" }, (err, stdout, stderr) => {
      // a failed child: `code` is its exit status, or null when a signal (the timeout) ended it
      const failed = err as { code?: unknown; signal?: NodeJS.Signals } | null;
      resolve({
        status: failed === null ? 0 : typeof failed.code === "number" ? failed.code : null,
        signal: failed?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr),
      });
    });
  });
}
