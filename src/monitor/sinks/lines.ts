/** The stdout and file sinks: one alert per JSON line (a file sink appends, mode 0600, and fsyncs once per batch). */
import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import type { Alert } from "../types.js";
import { alertLine, type AlertSink } from "./sink.js";

export function stdoutSink(write: (s: string) => boolean = (s) => process.stdout.write(s)): AlertSink {
  return { name: "stdout", send: async (a: Alert) => void write(alertLine(a)), close: async () => undefined };
}

/** Appends to `path`; a symbolic link there is refused (O_NOFOLLOW), so the alert log cannot be pointed at another file. */
export function fileSink(path: string): AlertSink {
  let handle: FileHandle | null = null;
  const close = async () => {
    const h = handle;
    handle = null;
    await h?.close();
  };
  return {
    name: `file ${path}`,
    async send(a) {
      handle ??= await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        await handle.write(alertLine(a));
      } catch (e) {
        await close().catch(() => undefined);
        throw e;
      }
    },
    async flush() {
      if (!handle) return;
      try {
        await handle.sync();
      } finally {
        await close(); // reopened on the next send: a rotated log file is followed
      }
    },
    close,
  };
}
