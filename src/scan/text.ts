/**
 * Scans plain text: CI logs lose their ANSI colour codes first, then every detector runs over the
 * whole file (so multi-line matches such as PEM blocks are seen) and each match is placed on its
 * line and column.
 */
import { detectAll } from "../redact/index.js";
import type { Detector, Finding } from "../redact/types.js";

/** CSI sequences (colours, cursor moves), OSC sequences (titles, hyperlinks) and two-byte escapes. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.includes("\x1b") ? text.replace(ANSI, "") : text;
}

/** A match with its value, kept only long enough to fingerprint and mask it. */
export interface Located {
  readonly finding: Finding;
  readonly value: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, UTF-16 units. */
  readonly column: number;
}

/** Offsets of line starts, for offset → line by binary search. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

export function position(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

/**
 * Every finding in `text`, placed; `text` must already be stripped of ANSI codes if it needs to be.
 * Detection is redaction's `detectAll` (encodings seen through, overlaps resolved, its default
 * confidence threshold unless `minConfidence` is given).
 */
export function scanText(text: string, detectors: readonly Detector[], minConfidence?: number): Located[] {
  const found: Finding[] = detectAll(text, detectors, minConfidence === undefined ? {} : { minConfidence });
  if (!found.length) return [];
  const starts = lineStarts(text);
  return found.map((f) => ({ finding: f, value: text.slice(f.start, f.end), ...position(starts, f.start) }));
}
