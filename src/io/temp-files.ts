/**
 * The temp files pipeseal has open right now, so that an interruption never leaves them
 * behind: a decrypt's temp holds plaintext, an init's holds the master key. Every writer of
 * a temp file registers it here before creating it and unregisters it once it is renamed
 * or removed; `removeLiveTempsSync` deletes whatever is still registered, synchronously, on
 * a stop signal (io/signals.ts) and on process exit. Only SIGKILL (or a power cut) can then
 * leave one behind, and such a leftover is recognisable: its name carries the writer's host
 * tag and pid, so the next run in that folder can tell a dead writer's file from a live
 * one's (`removeStaleTemps`).
 */
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, rmSync, unlinkSync } from "node:fs";
import { readdir, rm, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

/** Temp files start with this so a crash's leftovers are recognisable (and ignorable). */
export const TEMP_PREFIX = ".pseal-tmp-";

/** Base names longer than this are cut in the temp name (file names are at most 255 bytes). */
const MAX_BASE = 120;

/**
 * `.pseal-tmp-<base>.<host>.<pid>.<random>`: host is 8 hex digits of SHA-256 of the host name
 * (a shared folder may be written from several machines, and a pid means nothing elsewhere).
 */
const TEMP_NAME = /^\.pseal-tmp-.*\.([0-9a-f]{8})\.(\d{1,10})\.[0-9a-f]{12}$/;

const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

const live = new Map<string, "file" | "dir">();
let exitHooked = false;

/** A fresh temp path beside `target`, named with this process's host tag and pid. */
export function tempPathFor(target: string): string {
  const base = path.basename(target).slice(0, MAX_BASE);
  return path.join(path.dirname(target), `${TEMP_PREFIX}${base}.${HOST_TAG}.${process.pid}.${randomBytes(6).toString("hex")}`);
}

/**
 * Registers a temp path (before it is created, so no signal can fall between creation and
 * registration). Returns the function that unregisters it once it is renamed or removed.
 */
export function trackTemp(file: string, kind: "file" | "dir" = "file"): () => void {
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", () => void removeLiveTempsSync()); // process.exit() anywhere, mid-write
  }
  const abs = path.resolve(file);
  live.set(abs, kind);
  return () => void live.delete(abs);
}

/** The temp paths registered now (tests, diagnostics). */
export function liveTemps(): string[] {
  return [...live.keys()];
}

/**
 * Deletes every registered temp path, synchronously (a signal handler must not wait on the
 * event loop that is being torn down). Unlinking an open file is fine on POSIX: its blocks
 * are freed when the process exits. Removing a path already renamed away is a no-op, so
 * this never touches a finished target. Returns the paths removed.
 * @example process.on("SIGTERM", () => { removeLiveTempsSync(); process.exit(143); });
 */
export function removeLiveTempsSync(): string[] {
  const removed: string[] = [];
  for (const [file, kind] of live) {
    try {
      if (kind === "dir") {
        lstatSync(file);
        rmSync(file, { recursive: true, force: true });
      } else unlinkSync(file);
      removed.push(file);
    } catch {
      // already gone (renamed, removed) or not ours to remove: nothing to do
    }
    live.delete(file);
  }
  return removed;
}

/** What a temp file's name says about its writer, or null if it is not pipeseal's pattern. */
export function parseTempName(name: string): { host: string; pid: number; thisHost: boolean } | null {
  const m = TEMP_NAME.exec(name);
  if (!m) return null;
  return { host: m[1], pid: Number(m[2]), thisHost: m[1] === HOST_TAG };
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, another user's). */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether `abs` is a stale pipeseal temp file this process may remove: pipeseal's own name
 * pattern, written on this machine by a process that no longer exists, a regular file or a
 * folder (a registry pull's; never a symbolic link), owned by this user.
 */
export function isStaleTemp(abs: string): { pid: number; dir: boolean } | null {
  const parsed = parseTempName(path.basename(abs));
  if (!parsed || !parsed.thisHost) return null;
  // our own pid: stale unless this process has it open (the pid was reused after a SIGKILL)
  if (parsed.pid === process.pid ? live.has(path.resolve(abs)) : pidAlive(parsed.pid)) return null;
  try {
    const st = lstatSync(abs);
    if (!(st.isFile() || st.isDirectory()) || (typeof process.getuid === "function" && st.uid !== process.getuid())) return null;
    return { pid: parsed.pid, dir: st.isDirectory() };
  } catch {
    return null;
  }
}

type StaleListener = (file: string, pid: number) => void;
const staleListeners = new Set<StaleListener>();
const swept = new Set<string>();

/**
 * Called for each stale temp file removed (the CLI says so on stderr). Returns the unsubscribe.
 * @example onStaleTempRemoved((file, pid) => log.info({ file, pid }, "removed a dead writer's temp file"));
 */
export function onStaleTempRemoved(listener: StaleListener): () => void {
  staleListeners.add(listener);
  return () => void staleListeners.delete(listener);
}

/**
 * Removes the stale temp files (isStaleTemp) in `dir`, once per folder per process, and
 * reports each one removed. Best effort: an unreadable folder or a file that vanished is
 * skipped, never an error for the write that triggered the sweep.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const abs = path.resolve(dir);
  if (swept.has(abs)) return [];
  swept.add(abs);
  const names = await readdir(abs).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const file = path.join(abs, name);
    const stale = isStaleTemp(file);
    if (!stale) continue;
    const gone = stale.dir ? rm(file, { recursive: true, force: true }) : unlink(file);
    if (
      await gone.then(
        () => true,
        () => false,
      )
    ) {
      removed.push(file);
      for (const l of staleListeners) l(file, stale.pid);
    }
  }
  return removed;
}
