import { stat } from "node:fs/promises";
import { UsageError } from "../errors.js";

/** A file argument must name a file: a folder gets a typed error (not EISDIR from deep inside a read). */
export async function requireFile(file: string): Promise<void> {
  if (file === "-") return;
  const info = await stat(file).catch(() => undefined); // a missing file is reported by the read itself (IO_ERROR)
  if (info?.isDirectory()) throw new UsageError("INVALID_ARGUMENT", `${file} is a folder; give a file (or - for stdin)`);
}

/** Binary output to a terminal garbles it and can inject escape sequences: refuse unless forced, as age does. */
export function refuseBinaryToTerminal(force: boolean | undefined): void {
  if (process.stdout.isTTY && !force) {
    throw new UsageError("INVALID_ARGUMENT", "refusing to write a sealed file to the terminal; redirect it (> file.pseal), give -o FILE, or add --force");
  }
}
