/**
 * detectAll: every detector over a text, through encodings, overlaps resolved, low-confidence
 * and allowed findings dropped.
 */
import { builtinDetectors } from "./detectors/index.js";
import { type Decoded, decodeJsonEscapes, decodeUrlEscapes, decodedBase64Runs, hasJsonEscapes, hasUrlEscapes } from "./encodings.js";
import { resolveOverlaps } from "./resolve.js";
import type { Detector, Finding } from "./types.js";

/** Findings below this confidence are dropped unless `minConfidence` says otherwise. */
export const DEFAULT_MIN_CONFIDENCE = 0.5;

export interface DetectOptions {
  /** Drop findings below this confidence (default 0.5: drops docs examples, test cards, loopback IPs). */
  readonly minConfidence?: number;
  /** Look inside JSON escapes, URL encoding and base64 (default true). */
  readonly encodings?: boolean;
  /** Findings for which this returns true are dropped (see `allowPredicate`). */
  readonly allow?: (finding: Finding, text: string) => boolean;
}

let defaults: Detector[] | undefined;

function runAll(text: string, detectors: readonly Detector[]): Finding[] {
  const out: Finding[] = [];
  for (const d of detectors) {
    const found = d.find(text);
    for (let i = 0; i < found.length; i++) out.push(found[i]!);
  }
  return out;
}

/** Runs `fn` once on each line of `text` where `re` (global) matches, with the line's offset. */
function forEachLine(text: string, re: RegExp, fn: (line: string, at: number) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const from = text.lastIndexOf("\n", m.index) + 1;
    let to = text.indexOf("\n", m.index);
    if (to < 0) to = text.length;
    fn(text.slice(from, to), from);
    re.lastIndex = to + 1;
  }
}

const JSON_ESCAPE = /\\(?:u[0-9A-Fa-f]{4}|["/\\])/g;
const URL_ESCAPE = /%[0-9A-Fa-f]{2}/g;

/** Decoded-text findings mapped back to raw offsets (plus `at`, the line's offset). */
function mapBack(findings: readonly Finding[], decoded: Decoded, at: number, how: string): Finding[] {
  return findings.map((f) => ({ ...f, start: at + decoded.map[f.start]!, end: at + decoded.map[f.end]!, explanation: `${f.explanation} (${how})` }));
}

/**
 * All findings in `text`, non-overlapping, in order of `start`.
 * @example detectAll("mail bob@example.org") // [{ detector: "email", start: 5, end: 20, … }]
 */
export function detectAll(text: string, detectors?: readonly Detector[], options: DetectOptions = {}): Finding[] {
  const list = detectors ?? (defaults ??= builtinDetectors());
  const min = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const all = runAll(text, list);
  if (options.encodings !== false) {
    // per line, so one escaped line in a large text does not make the whole text run twice
    if (hasJsonEscapes(text)) forEachLine(text, JSON_ESCAPE, (line, at) => {
      const d = decodeJsonEscapes(line);
      all.push(...mapBack(runAll(d.text, list), d, at, "JSON-escaped"));
    });
    if (hasUrlEscapes(text)) forEachLine(text, URL_ESCAPE, (line, at) => {
      const d = decodeUrlEscapes(line);
      all.push(...mapBack(runAll(d.text, list), d, at, "URL-encoded"));
    });
    for (const run of decodedBase64Runs(text)) {
      const inner = resolveOverlaps(runAll(run.text, list)).filter((f) => f.confidence >= min);
      if (inner.length === 0) continue;
      const best = inner.reduce((a, b) => (b.confidence > a.confidence ? b : a));
      all.push({ ...best, start: run.start, end: run.end, confidence: best.confidence * 0.95, explanation: `base64 of: ${best.explanation}` });
    }
  }
  const kept = resolveOverlaps(all).filter((f) => f.confidence >= min);
  return options.allow ? kept.filter((f) => !options.allow!(f, text)) : kept;
}
