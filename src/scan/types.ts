/**
 * The scanner's data model. A finding never holds the matched text: only where it is, which
 * detector matched, a masked hint and a keyed fingerprint (see fingerprint.ts).
 */
import type { Detector, FindingKind } from "../redact/types.js";

/** Where a finding sits inside a Jupyter notebook (all indices 0-based, `line`/`column` 1-based). */
export interface NotebookLocation {
  readonly cell: number;
  readonly cellType: string;
  /** Index into the cell's `outputs`, absent for the cell source. */
  readonly output?: number;
  /** `stream`, `execute_result`, `display_data`, `error`. */
  readonly outputType?: string;
  /** MIME type of the output part that matched (`text/plain`, `stream`…). */
  readonly mime?: string;
  /** Line and column within the cell source or output text, after JSON un-escaping. */
  readonly line: number;
  readonly column: number;
}

export interface ScanFinding {
  /** Path relative to `root`, `/`-separated. */
  readonly path: string;
  /** 1-based line and UTF-16 column in the file (for notebooks: the raw JSON line, best effort). */
  readonly line: number;
  readonly column: number;
  readonly detector: string;
  readonly kind: FindingKind;
  readonly label: string;
  readonly confidence: number;
  readonly explanation: string;
  /** A masked hint such as `AKIA…MPLE`: never more than 8 characters of the value, none for short values. */
  readonly hint: string;
  /** Stable across runs and line shifts; see fingerprint.ts for what goes in. */
  readonly fingerprint: string;
  readonly notebook?: NotebookLocation;
  /** The fingerprint is in the baseline: reported, but does not fail the scan. */
  readonly baselined: boolean;
}

export type ScanNoteKind = "binary" | "too-large" | "symlink" | "unreadable" | "malformed-notebook" | "not-utf8";

/** Something the scanner skipped or degraded, for humans; never a secret. */
export interface ScanNote {
  readonly path: string;
  readonly kind: ScanNoteKind;
  readonly message: string;
}

export interface ScanStats {
  files: number;
  bytes: number;
  notebooks: number;
  skippedBinary: number;
  skippedLarge: number;
  skippedOther: number;
  findings: number;
  newFindings: number;
}

export interface ScanOptions {
  /** Detectors to run (default: the built-in set from pipeseal's redaction). */
  readonly detectors?: readonly Detector[];
  /** Paths in findings and fingerprints are relative to this folder (default: the current folder). */
  readonly root?: string;
  /** Honour `.gitignore` files (default true). `.git/` is always skipped. */
  readonly gitignore?: boolean;
  /** Files larger than this are skipped with a note (default 5 MiB). */
  readonly maxFileSize?: number;
  /** Findings below this confidence are dropped (default: redaction's DEFAULT_MIN_CONFIDENCE, 0.5). */
  readonly minConfidence?: number;
  /** Accepted fingerprints: matching findings are `baselined`. */
  readonly baseline?: ReadonlySet<string>;
  /** Key for the fingerprint HMAC (default: a public constant; see fingerprint.ts). */
  readonly fingerprintKey?: string | Uint8Array;
  /** Called for every skipped or degraded file. */
  readonly onNote?: (note: ScanNote) => void;
  /** Filled in while scanning. */
  readonly stats?: ScanStats;
}

export const DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024;

export function emptyStats(): ScanStats {
  return { files: 0, bytes: 0, notebooks: 0, skippedBinary: 0, skippedLarge: 0, skippedOther: 0, findings: 0, newFindings: 0 };
}
