/**
 * The baseline: fingerprints of accepted findings, in a JSON file meant to be committed.
 * Holds no secret material — detector, path and fingerprint only (see fingerprint.ts on why the
 * fingerprint is keyed).
 *
 * ```json
 * { "version": 1, "tool": "pipeseal scan", "findings": [{ "fingerprint": "…", "detector": "aws-access-key-id", "path": "src/a.py" }] }
 * ```
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { once, writeAtomic } from "../io/atomic.js";
import { asObject, isList } from "../io/json-value.js";
import type { ScanFinding } from "./types.js";

export interface BaselineEntry {
  readonly fingerprint: string;
  readonly detector: string;
  readonly path: string;
}

export interface Baseline {
  readonly version: 1;
  readonly tool: "pipeseal scan";
  readonly findings: readonly BaselineEntry[];
}

/** Pure: the baseline that accepts exactly `findings`, sorted so the file diffs cleanly. */
export function baselineOf(findings: readonly ScanFinding[]): Baseline {
  const byFp = new Map<string, BaselineEntry>();
  for (const f of findings) byFp.set(f.fingerprint, { fingerprint: f.fingerprint, detector: f.detector, path: f.path });
  const entries = [...byFp.values()].sort(
    (a, b) => a.path.localeCompare(b.path) || a.detector.localeCompare(b.detector) || a.fingerprint.localeCompare(b.fingerprint),
  );
  return { version: 1, tool: "pipeseal scan", findings: entries };
}

/** Parses a baseline file's text. @throws UsageError INVALID_ARGUMENT when it is not one. */
export function parseBaseline(text: string, source = "baseline"): ReadonlySet<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError("INVALID_ARGUMENT", `${source} is not JSON`);
  }
  const d = asObject(doc);
  const listed = d?.version === 1 && isList(d.findings) ? d.findings : undefined;
  const fingerprints = listed?.map((e) => asObject(e)?.fingerprint) ?? [];
  if (listed === undefined || !fingerprints.every((fp): fp is string => typeof fp === "string" && /^[0-9a-f]{64}$/.test(fp))) {
    throw new UsageError("INVALID_ARGUMENT", `${source} is not a pipeseal scan baseline (version 1)`);
  }
  return new Set(fingerprints);
}

/** Reads a baseline; a missing file is an empty baseline (so `--update-baseline` can create it). */
export async function readBaseline(file: string): Promise<ReadonlySet<string>> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  return text === undefined ? new Set() : parseBaseline(text, file);
}

export async function writeBaseline(file: string, findings: readonly ScanFinding[]): Promise<Baseline> {
  const b = baselineOf(findings);
  const bytes = Buffer.from(JSON.stringify(b, null, 2) + "\n");
  await writeAtomic(file, once(bytes), 0o644); // meant to be committed: not secret
  return b;
}
