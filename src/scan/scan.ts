/**
 * `scanPaths`: the scanner's one operation. Walks the paths, reads one file at a time (memory
 * stays flat whatever the tree's size), classifies it, scans notebooks as notebooks and
 * everything else as text, and yields findings as it goes.
 */
import path from "node:path";
import { builtinDetectors } from "../redact/index.js";
import type { Detector } from "../redact/types.js";
import { classify } from "./classify.js";
import { DEFAULT_FINGERPRINT_KEY, fingerprint, maskHint } from "./fingerprint.js";
import { notebookUnits, rawPosition } from "./notebook.js";
import { lineStarts, scanText, stripAnsi, type Located } from "./text.js";
import { DEFAULT_MAX_FILE_SIZE, emptyStats, type NotebookLocation, type ScanFinding, type ScanNote, type ScanOptions, type ScanStats } from "./types.js";
import { walk } from "./walk.js";

interface FileContext {
  readonly rel: string;
  readonly detectors: readonly Detector[];
  readonly key: string | Uint8Array;
  readonly minConfidence: number | undefined;
  readonly baseline: ReadonlySet<string> | undefined;
}

function toFinding(ctx: FileContext, l: Located, at: { line: number; column: number }, notebook?: NotebookLocation): ScanFinding {
  const f = l.finding;
  const fp = fingerprint(ctx.key, f.detector, ctx.rel, l.value);
  return {
    path: ctx.rel,
    line: at.line,
    column: at.column,
    detector: f.detector,
    kind: f.kind,
    label: f.label,
    confidence: f.confidence,
    explanation: f.explanation,
    hint: maskHint(l.value),
    fingerprint: fp,
    ...(notebook ? { notebook } : {}),
    baselined: ctx.baseline?.has(fp) ?? false,
  };
}

function scanNotebook(ctx: FileContext, raw: string, units: ReturnType<typeof notebookUnits> & object): ScanFinding[] {
  const out: ScanFinding[] = [];
  let starts: number[] | undefined;
  let cursor = 0;
  let cursorCell = -1;
  let nextCursor = 0;
  for (const u of units) {
    const found = scanText(u.text, ctx.detectors, ctx.minConfidence);
    if (!found.length) continue;
    if (u.cell !== cursorCell) {
      cursor = nextCursor; // search this cell's lines after the previous cell's
      cursorCell = u.cell;
    }
    starts ??= lineStarts(raw);
    const lines = u.text.split("\n");
    for (const l of found) {
      const lineText = (lines[l.line - 1] ?? "") + (l.line < lines.length ? "\n" : "");
      const rawAt = rawPosition(raw, starts, cursor, lineText, l.column) ?? rawPosition(raw, starts, cursor, lines[l.line - 1] ?? "", l.column);
      if (rawAt) nextCursor = Math.max(nextCursor, rawAt.offset);
      const nb: NotebookLocation = {
        cell: u.cell,
        cellType: u.cellType,
        ...(u.output !== undefined ? { output: u.output, outputType: u.outputType ?? "unknown" } : {}),
        ...(u.mime ? { mime: u.mime } : {}),
        line: l.line,
        column: l.column,
      };
      out.push(toFinding(ctx, l, rawAt ?? { line: 1, column: 1 }, nb));
    }
  }
  return out;
}

function note(onNote: ScanOptions["onNote"], n: ScanNote): void {
  onNote?.(n);
}

/**
 * Scans files and folders for secrets and PII. Relative `paths` are resolved against
 * `options.root` (default: the current folder), and paths in findings are relative to it.
 *
 * @example
 * for await (const f of scanPaths(["."], { baseline })) if (!f.baselined) console.log(f.path, f.line, f.detector, f.hint);
 * @throws the `lstat` error (ENOENT…) when a path given does not exist; unreadable files inside
 *   folders are notes, not errors.
 */
export async function* scanPaths(paths: readonly string[], options: ScanOptions = {}): AsyncGenerator<ScanFinding> {
  const root = path.resolve(options.root ?? ".");
  const rel = (abs: string) => path.relative(root, abs).split(path.sep).join("/") || ".";
  const detectors = options.detectors ?? builtinDetectors();
  const stats: ScanStats = options.stats ?? emptyStats();
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const key = options.fingerprintKey ?? DEFAULT_FINGERPRINT_KEY;
  for await (const entry of walk(paths, { root, gitignore: options.gitignore ?? true, rel })) {
    if (entry.type === "note") {
      stats.skippedOther++;
      note(options.onNote, entry.note);
      continue;
    }
    const ctx: FileContext = { rel: rel(entry.abs), detectors, key, minConfidence: options.minConfidence, baseline: options.baseline };
    let c;
    try {
      c = classify(entry.abs, entry.size, maxFileSize);
    } catch (e) {
      stats.skippedOther++;
      note(options.onNote, { path: ctx.rel, kind: "unreadable", message: `not readable (${(e as NodeJS.ErrnoException).code ?? "error"})` });
      continue;
    }
    if (c.type === "binary") {
      stats.skippedBinary++;
      continue; // counted, not noted: most trees hold many
    }
    if (c.type === "too-large") {
      stats.skippedLarge++;
      note(options.onNote, { path: ctx.rel, kind: "too-large", message: `skipped: ${c.size} bytes is over the ${maxFileSize}-byte limit` });
      continue;
    }
    stats.files++;
    stats.bytes += Buffer.byteLength(c.text);
    let findings: ScanFinding[];
    const units = ctx.rel.toLowerCase().endsWith(".ipynb") ? notebookUnits(c.text) : undefined;
    if (units) {
      stats.notebooks++;
      findings = scanNotebook(ctx, c.text, units);
    } else {
      if (ctx.rel.toLowerCase().endsWith(".ipynb"))
        note(options.onNote, { path: ctx.rel, kind: "malformed-notebook", message: "not a valid notebook: scanned as plain text" });
      findings = scanText(stripAnsi(c.text), detectors, ctx.minConfidence).map((l) => toFinding(ctx, l, l));
    }
    for (const f of findings) {
      stats.findings++;
      if (!f.baselined) stats.newFindings++;
      yield f;
    }
  }
}

export interface ScanReport {
  readonly findings: ScanFinding[];
  readonly notes: ScanNote[];
  readonly stats: ScanStats;
}

/** `scanPaths` collected: every finding, every note, the counts. */
export async function scan(paths: readonly string[], options: ScanOptions = {}): Promise<ScanReport> {
  const notes: ScanNote[] = [];
  const stats = options.stats ?? emptyStats();
  const findings: ScanFinding[] = [];
  for await (const f of scanPaths(paths, { ...options, stats, onNote: (n) => (notes.push(n), options.onNote?.(n)) })) findings.push(f);
  return { findings, notes, stats };
}
