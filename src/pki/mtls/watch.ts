/**
 * Watches a cert dir for renewal. The CA replaces files by rename, so the inode changes;
 * `fs.watch` on the directory reports it quickly, and a periodic stat catches what fs.watch
 * misses (network file systems, some container mounts, a watcher that died).
 */
import { type FSWatcher, statSync, watch } from "node:fs";

export interface WatchOptions {
  /** Stat fallback period in ms (default 30 000). */
  readonly pollIntervalMs?: number;
  /** Quiet time after an fs.watch event before reloading, so a multi-file renewal lands whole (default 100). */
  readonly debounceMs?: number;
}

export interface FileWatcher {
  close(): void;
}

function signature(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return "-";
      }
    })
    .join("|");
}

/**
 * Calls `reload` when any of `files` (all in `dir`) changes. `reload` returns true once the
 * new files were taken; false (e.g. cert renamed in but key not yet) leaves the change
 * pending, to be retried on the next event or poll.
 */
export function watchFiles(dir: string, files: readonly string[], reload: () => boolean, options: WatchOptions = {}): FileWatcher {
  let seen = signature(files);
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    const now = signature(files);
    if (now !== seen && reload()) seen = now;
  };
  const soon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, options.debounceMs ?? 100);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, soon);
    watcher.on("error", () => watcher?.close()); // the poll carries on
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(check, options.pollIntervalMs ?? 30_000);
  poll.unref();
  return {
    close() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
