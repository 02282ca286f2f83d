/**
 * detectAll: every detector over a text, through encodings, overlaps resolved, low-confidence
 * and allowed findings dropped.
 */
import { builtinDetectors } from "./detectors/index.js";
import { type Decoded, decodeJsonEscapes, decodeUrlEscapes, decodedBase64Runs, hasJsonEscapes, hasUrlEscapes } from "./encodings.js";
import { type LineTriggers, TRIGGER, scanTriggers, triggerOf } from "./prefilter.js";
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
    for (let i = 0; i < found.length; i++) out.push(found[i]);
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
  return findings.map((f) => ({ ...f, start: at + decoded.map[f.start], end: at + decoded.map[f.end], explanation: `${f.explanation} (${how})` }));
}

/**
 * All findings in `text`, non-overlapping, in order of `start`.
 *
 * The fast path: one prefilter pass (prefilter.ts) marks, per line, which detectors could match
 * there; each built-in detector then runs only on its triggered lines, and encodings are decoded
 * only on lines holding an escape or a base64 candidate. Detectors that are not built-ins
 * (custom ones) run over the whole text. Same result as `detectAllReference`, exactly.
 * @example detectAll("mail bob@example.org") // [{ detector: "email", start: 5, end: 20, … }]
 */
export function detectAll(text: string, detectors?: readonly Detector[], options: DetectOptions = {}): Finding[] {
  const list = detectors ?? (defaults ??= builtinDetectors());
  const min = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const lines = scanTriggers(text);
  const all = runTriggered(text, list, lines);
  if (options.encodings !== false && (lines.any & (TRIGGER.JSON_ESCAPE | TRIGGER.URL_ESCAPE | TRIGGER.BASE64)) !== 0) {
    const { starts, ends, masks } = lines;
    // same order as the reference: JSON-escaped lines, URL-encoded lines, then base64 runs
    for (let k = 0; k < masks.length; k++) {
      if ((masks[k] & TRIGGER.JSON_ESCAPE) === 0) continue;
      const d = decodeJsonEscapes(text.slice(starts[k], ends[k]));
      pushAll(all, mapBack(runTriggered(d.text, list, scanTriggers(d.text)), d, starts[k], "JSON-escaped"));
    }
    for (let k = 0; k < masks.length; k++) {
      if ((masks[k] & TRIGGER.URL_ESCAPE) === 0) continue;
      const d = decodeUrlEscapes(text.slice(starts[k], ends[k]));
      pushAll(all, mapBack(runTriggered(d.text, list, scanTriggers(d.text)), d, starts[k], "URL-encoded"));
    }
    for (let k = 0; k < masks.length; k++) {
      if ((masks[k] & TRIGGER.BASE64) === 0) continue;
      for (const run of decodedBase64Runs(text.slice(starts[k], ends[k]))) {
        const inner = resolveOverlaps(runTriggered(run.text, list, scanTriggers(run.text))).filter((f) => f.confidence >= min);
        if (inner.length === 0) continue;
        const best = inner.reduce((a, b) => (b.confidence > a.confidence ? b : a));
        all.push({
          ...best,
          start: starts[k] + run.start,
          end: starts[k] + run.end,
          confidence: best.confidence * 0.95,
          explanation: `base64 of: ${best.explanation}`,
        });
      }
    }
  }
  const kept = resolveOverlaps(all).filter((f) => f.confidence >= min);
  return options.allow ? kept.filter((f) => !options.allow!(f, text)) : kept;
}

function pushAll(to: Finding[], from: readonly Finding[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
}

/**
 * Every detector over `text`, in list order (as `runAll`), but a built-in only on the lines
 * where its trigger fired. Findings on a line are shifted back to offsets in `text`.
 */
function runTriggered(text: string, detectors: readonly Detector[], lines: LineTriggers): Finding[] {
  const out: Finding[] = [];
  const { starts, ends, masks } = lines;
  let slices: Array<string | undefined> | undefined;
  for (const d of detectors) {
    const bit = triggerOf(d);
    if (bit === undefined || bit === TRIGGER.PRIVATE_KEY) {
      if (bit === undefined || (lines.any & bit) !== 0) pushAll(out, d.find(text));
      continue;
    }
    if ((lines.any & bit) === 0) continue;
    for (let k = 0; k < masks.length; k++) {
      if ((masks[k] & bit) === 0) continue;
      const from = starts[k];
      if (from === 0 && ends[k] === text.length) {
        pushAll(out, d.find(text));
        continue;
      }
      slices ??= new Array<string | undefined>(masks.length);
      const line = (slices[k] ??= text.slice(from, ends[k]));
      const found = d.find(line);
      for (let i = 0; i < found.length; i++) {
        const f = found[i];
        out.push({ ...f, start: f.start + from, end: f.end + from });
      }
    }
  }
  return out;
}

/**
 * The simple reference for `detectAll`: every detector over the whole text, every encoding
 * decoder over every line that has an escape. Kept next to the fast path (STYLE.md); the
 * prefilter property test checks the two agree exactly.
 */
export function detectAllReference(text: string, detectors?: readonly Detector[], options: DetectOptions = {}): Finding[] {
  const list = detectors ?? (defaults ??= builtinDetectors());
  const min = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const all = runAll(text, list);
  if (options.encodings !== false) {
    // per line, so one escaped line in a large text does not make the whole text run twice
    if (hasJsonEscapes(text))
      forEachLine(text, JSON_ESCAPE, (line, at) => {
        const d = decodeJsonEscapes(line);
        all.push(...mapBack(runAll(d.text, list), d, at, "JSON-escaped"));
      });
    if (hasUrlEscapes(text))
      forEachLine(text, URL_ESCAPE, (line, at) => {
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
