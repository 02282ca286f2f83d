/** `--baseline prev.json`: the fingerprints of a previous JSON report. */
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";

export async function readPostureBaseline(file: string): Promise<{ path: string; fingerprints: string[] }> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new UsageError("INVALID_ARGUMENT", `--baseline ${file}: not a readable JSON report (${(e as NodeJS.ErrnoException).code ?? "invalid JSON"})`);
  }
  const findings = (data as { findings?: unknown }).findings;
  if (!Array.isArray(findings) || findings.some((f) => typeof (f as { fingerprint?: unknown })?.fingerprint !== "string")) {
    throw new UsageError("INVALID_ARGUMENT", `--baseline ${file}: not a posture JSON report (no findings[].fingerprint)`);
  }
  return { path: file, fingerprints: findings.map((f) => (f as { fingerprint: string }).fingerprint) };
}
