import { constants } from "node:fs";
import { open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { removeStaleTemps, tempPathFor, trackTemp } from "./temp-files.js";

export { TEMP_PREFIX } from "./temp-files.js";

/** One buffer or text (UTF-8) as the chunk stream writeAtomic and the sealers take. */
export async function* once(data: Uint8Array | string): AsyncGenerator<Uint8Array> {
  yield typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/**
 * Writes a stream to `target` atomically: a temp file beside it (created exclusively,
 * mode `mode`), fsync, rename, fsync of the folder. A failure or a crash leaves either
 * the old file or the new one, never a half-written target. Special files such as
 * /dev/null are written directly (there is nothing to replace).
 *
 * The temp file is registered (io/temp-files.ts) for as long as it exists, so a stop signal
 * or process exit removes it; its name carries this process's pid, so a SIGKILLed run's
 * leftover is removed by the next write into the same folder (removeStaleTemps).
 */
export async function writeAtomic(target: string, chunks: AsyncIterable<Uint8Array>, mode = 0o600): Promise<number> {
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) return writeDirect(target, chunks);
  const dir = path.dirname(target);
  await removeStaleTemps(dir);
  const temp = tempPathFor(target);
  const untrack = trackTemp(temp);
  let handle: FileHandle;
  try {
    handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (e) {
    untrack();
    throw e;
  }
  let written = 0;
  try {
    for await (const chunk of chunks) written += await writeAll(handle, chunk);
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw e;
  } finally {
    untrack();
  }
  await syncDir(dir);
  return written;
}

async function writeDirect(target: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  const handle = await open(target, "w");
  let written = 0;
  try {
    for await (const chunk of chunks) written += await writeAll(handle, chunk);
  } finally {
    await handle.close();
  }
  return written;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined); // some filesystems refuse fsync on folders
  await handle.close();
}

/** fs writes may be short; loop until the whole chunk is down. */
export async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<number> {
  for (let off = 0; off < chunk.length;) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
  return chunk.length;
}
