/**
 * What the demo tests read off a finished run: its files, whether a printed port is closed, the
 * processes still naming its folder, and the files holding a planted value or the secret.
 */
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { MARKERS } from "../../src/demo/data.js";
import type { SecretStore } from "../../src/secrets/index.js";

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** True when nothing listens at `url` any more. */
export function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: hostname, port: Number(port) });
    s.once("connect", () => (s.destroy(), resolve(false)));
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

/** Processes whose command line names `needle` (the demo's folder: the training job, servers). */
export function processesNaming(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd.slice(0, 200)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * The files under `dir` (every byte: SQLite WAL, logs, certificates) that hold a planted marker
 * value or the tracking token, read from `secrets` (it must look like one, or the search proves nothing).
 */
export async function filesWithPlantedValues(dir: string, secrets: SecretStore): Promise<string[]> {
  const { value } = await secrets.read("tracking/token", { for: "demo test: search for the token" });
  const token = value.toString();
  value.fill(0);
  if (!/^trk_[0-9a-f]{40}$/.test(token)) throw new Error("the tracking token does not look like one");
  const needles = [MARKERS.email, MARKERS.card, MARKERS.text, token].map((s) => Buffer.from(s));
  return filesUnder(dir)
    .filter((f) => {
      const bytes = readFileSync(f);
      return needles.some((n) => bytes.includes(n));
    })
    .map((f) => path.relative(dir, f));
}
