import { stat } from "node:fs/promises";
import { UsageError } from "../errors.js";

/** Human-readable output escapes user-controlled strings with these (src/io/printable.ts); JSON output stays JSON. */
export { printable, printableLines } from "../io/printable.js";

/** Refuses to replace an existing file unless --force was given. */
export async function refuseOverwrite(path: string, force: boolean | undefined): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isFile() && !force) throw new UsageError("INVALID_ARGUMENT", `${path} already exists; use --force to replace it`);
}

/** Writes a stream to stdout with backpressure; returns bytes written. */
export async function toStdout(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let written = 0;
  for await (const chunk of chunks) {
    written += chunk.length;
    if (!process.stdout.write(chunk)) await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
  }
  // a pipe's last chunk may still be queued in Node: the command exits right after, so wait until it is out
  await new Promise<void>((resolve, reject) => process.stdout.write("", (e) => (e ? reject(e) : resolve())));
  return written;
}
