/**
 * Helpers shared by the built-in detectors: a pattern-driven detector, context look-ups,
 * validators (Luhn, ISO 7064 mod-97, Shannon entropy).
 *
 * Every pattern here is written to run in linear time on a backtracking engine: each one
 * starts with a negative look-behind over the same characters its first quantifier eats (so
 * a match can only start at the beginning of a run), quantifiers are bounded, and no
 * quantified group holds another quantifier that can match the same text two ways.
 */
import type { Detector, Finding, FindingKind } from "../types.js";

/** What a validator says about a candidate: a confidence, or null to drop it. */
export type Verdict = { confidence: number; explanation?: string } | null;

export interface PatternDetectorSpec {
  readonly id: string;
  readonly kind: FindingKind;
  readonly label: string;
  /** Must carry the `g` flag; add `d` when `group` is used. */
  readonly pattern: RegExp;
  /** Report this capture group's span instead of the whole match. */
  readonly group?: number;
  readonly confidence: number;
  readonly explanation: string;
  /** Cheap pre-check on the whole text (e.g. a substring every match must contain). */
  readonly hint?: (text: string) => boolean;
  /**
   * For detectors that need a label before the match: the pattern runs only in the `window`
   * characters after each anchor match, so a large text without labels costs one cheap scan.
   */
  readonly anchor?: { readonly pattern: RegExp; readonly window: number };
  /** Shortens a greedy match: returns the length to keep (0 drops it). Runs before `validate`. */
  readonly trim?: (value: string) => number;
  /** Looks at the value (and its surroundings) and keeps, re-scores or drops it. */
  readonly validate?: (value: string, text: string, start: number, end: number) => Verdict;
}

/** A detector that runs one regular expression and an optional validator. */
export function patternDetector(spec: PatternDetectorSpec): Detector {
  if (!spec.pattern.global) throw new TypeError(`detector ${spec.id}: pattern needs the g flag`);
  // One RegExp per detector, reset per call: find() is synchronous and never re-entered.
  const re = new RegExp(spec.pattern.source, spec.pattern.flags);
  /** Matches that start in [from, to) (the look-behind still sees the text before `from`). */
  const scan = (text: string, from: number, to: number): Finding[] => {
    const out: Finding[] = [];
    re.lastIndex = from;
    for (let m = re.exec(text); m !== null && m.index < to; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      let start = m.index;
      let end = start + m[0].length;
      if (spec.group !== undefined) {
        const span = m.indices?.[spec.group];
        if (!span) continue;
        [start, end] = span;
      }
      if (spec.trim) {
        const keep = spec.trim(text.slice(start, end));
        if (keep <= 0) continue;
        end = start + keep;
      }
      const value = text.slice(start, end);
      let confidence = spec.confidence;
      let explanation = spec.explanation;
      if (spec.validate) {
        const v = spec.validate(value, text, start, end);
        if (v === null) continue;
        confidence = v.confidence;
        if (v.explanation) explanation = v.explanation;
      }
      out.push({ detector: spec.id, kind: spec.kind, label: spec.label, start, end, confidence, explanation });
    }
    return out;
  };
  const anchor = spec.anchor
    ? new RegExp(spec.anchor.pattern.source, spec.anchor.pattern.flags.includes("g") ? spec.anchor.pattern.flags : spec.anchor.pattern.flags + "g")
    : null;
  return {
    id: spec.id,
    kind: spec.kind,
    label: spec.label,
    find(text: string): Finding[] {
      if (spec.hint && !spec.hint(text)) return [];
      if (!spec.anchor || !anchor) return scan(text, 0, text.length);
      const out: Finding[] = [];
      anchor.lastIndex = 0;
      let done = 0;
      for (let a = anchor.exec(text); a !== null; a = anchor.exec(text)) {
        const from = Math.max(done, a.index + a[0].length);
        // the window ends at the anchor's line end: detection is line-local (see prefilter.ts)
        let eol = text.indexOf("\n", a.index + a[0].length);
        if (eol < 0) eol = text.length;
        const to = Math.min(eol, a.index + a[0].length + spec.anchor.window);
        if (from >= to) continue;
        // scan a bounded slice (64 characters of margin each side for look-arounds, context and
        // the match itself), so a text with many labels stays linear
        const base = Math.max(0, from - 64);
        for (const f of scan(text.slice(base, to + 64), from - base, to - base)) {
          out.push({ ...f, start: f.start + base, end: f.end + base });
          done = Math.max(done, f.end + base);
        }
        if (a[0].length === 0) anchor.lastIndex++;
      }
      return out;
    },
  };
}

/** Two lists of findings, each in order of start, as one list in order of start (stable: `a` first on ties). */
export function merge(a: Finding[], b: Finding[]): Finding[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return [...a, ...b].sort((x, y) => x.start - y.start);
}

/** True if `words` matches within `window` characters before `start` (same line). */
export function contextBefore(text: string, start: number, words: RegExp, window = 48): boolean {
  let before = text.slice(Math.max(0, start - window), start); // bounded: never scan the whole text
  const nl = before.lastIndexOf("\n");
  if (nl >= 0) before = before.slice(nl + 1);
  return words.test(before);
}

/** True if `words` matches within `window` characters after `end` (same line). */
export function contextAfter(text: string, end: number, words: RegExp, window = 32): boolean {
  let after = text.slice(end, Math.min(text.length, end + window));
  const nl = after.indexOf("\n");
  if (nl >= 0) after = after.slice(0, nl);
  return words.test(after);
}

/** Luhn (ISO/IEC 7812-1 Annex B) over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 7064 MOD 97-10 as IBAN uses it (ISO 13616-1 §7): rearranged, letters as 10..35, remainder 1. */
export function mod97(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** How many of lower, upper, digit the string mixes. */
export function charClasses(s: string): number {
  return (/[a-z]/.test(s) ? 1 : 0) + (/[A-Z]/.test(s) ? 1 : 0) + (/[0-9]/.test(s) ? 1 : 0);
}

/** Values vendors publish in their docs (AWS "…EXAMPLE" keys) or obvious placeholders. */
export function looksLikePlaceholder(value: string): boolean {
  return (
    /EXAMPLE|example|x{6,}|X{6,}|\*{3,}|^<.*>$|^\$\{.*\}$|^\{\{.*\}\}$|(?:^|[_-])(?:placeholder|changeme|redacted|dummy|your[_-]?\w*)(?:$|[_-])/i.test(value) ||
    /^(.)\1+$/.test(value)
  );
}
