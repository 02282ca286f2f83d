/**
 * Secret and PII scanner: files, folders, CI logs and Jupyter notebooks (parsed as notebooks).
 *
 * Security guarantees: a finding never carries the matched value — only its location, the
 * detector, a masked hint of at most 8 characters (none for values under 12) and a keyed
 * fingerprint; every output format (human, JSON, SARIF, baseline) is built from findings only.
 * Limits: files above `maxFileSize` and binary files are skipped (counted, noted); symbolic links
 * are never followed.
 */
export { scan, scanPaths, type ScanReport } from "./scan.js";
export { toSarif, levelOf, FINGERPRINT_NAME, SARIF_SCHEMA_URI, type SarifOptions } from "./sarif.js";
export { baselineOf, parseBaseline, readBaseline, writeBaseline, type Baseline, type BaselineEntry } from "./baseline.js";
export { fingerprint, maskHint, DEFAULT_FINGERPRINT_KEY } from "./fingerprint.js";
export { notebookUnits, type NotebookUnit } from "./notebook.js";
export { stripAnsi } from "./text.js";
export {
  DEFAULT_MAX_FILE_SIZE,
  emptyStats,
  type NotebookLocation,
  type ScanFinding,
  type ScanNote,
  type ScanNoteKind,
  type ScanOptions,
  type ScanStats,
} from "./types.js";
