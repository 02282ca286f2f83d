/**
 * One writer per log folder: `<dir>/.lock` holds the writer's pid. A lock left by a process
 * that no longer exists (SIGKILL, power loss) is stale and is taken over.
 */
import { constants } from "node:fs";
import { open, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../errors.js";

export const LOCK_FILE = ".lock";

/** The pid holding the folder's lock, if that process is alive. */
export async function liveWriter(dir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dir, LOCK_FILE), "utf8").catch(() => undefined);
  const pid = Number(text?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}

/** Takes the lock; returns its release. @throws UsageError(INVALID_ARGUMENT) while another live writer holds it. */
export async function lockFolder(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      return () => unlink(file).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = await liveWriter(dir);
      if (pid !== undefined) throw new UsageError("INVALID_ARGUMENT", `${dir} is being written by process ${pid}; one writer per log folder`);
      await unlink(file).catch(() => undefined); // stale
    }
  }
  throw new UsageError("INVALID_ARGUMENT", `could not lock ${dir}`);
}
