/** The stdout and file sinks: one alert per JSON line (a file sink appends, fsyncs, mode 0600). */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Alert } from "../types.js";
import { alertLine, type AlertSink } from "./sink.js";

export function stdoutSink(write: (s: string) => boolean = (s) => process.stdout.write(s)): AlertSink {
  return { name: "stdout", send: async (a: Alert) => void write(alertLine(a)), close: async () => undefined };
}

/** Appends to `path`; a symbolic link there is refused (O_NOFOLLOW), so the alert log cannot be pointed at another file. */
export function fileSink(path: string): AlertSink {
  return {
    name: `file ${path}`,
    async send(a) {
      const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        await handle.write(alertLine(a));
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
    close: async () => undefined,
  };
}
