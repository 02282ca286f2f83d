/**
 * A scanner for JSONL lines already in the form `JSON.stringify(JSON.parse(line))` would give
 * them, so a run can replace a few top-level values in place instead of parsing and
 * re-serialising the whole record (the apply hot path, docs/fields.md "Performance").
 *
 * `scanCanonical` accepts a line only when splicing is certain to give the same bytes as
 * parse → change → stringify: one top-level object; no whitespace between tokens; distinct
 * keys that are neither array-index-like (V8 puts those first) nor `__proto__`; strings
 * without a backslash, a control character or a surrogate code unit; numbers that print as
 * written (`String(Number(text)) === text`); no nested object (nested arrays of such values
 * are fine). Anything else — including every invalid line — is declined (-1), and the caller
 * takes the general path, which reports errors as before. A test checks both paths agree.
 */

/** What a member's value is, for the caller. */
export const STRING = 1;
export const NULL = 2;
export const OTHER = 3;

/** Member spans of the last accepted line, reused from line to line (no allocation per line). */
export class LineScan {
  count = 0;
  /** Key text is line[keyStart, keyEnd) (inside the quotes). */
  readonly keyStart: number[] = [];
  readonly keyEnd: number[] = [];
  /** Value text is line[valueStart, valueEnd) (a string's span includes its quotes). */
  readonly valueStart: number[] = [];
  readonly valueEnd: number[] = [];
  readonly kind: number[] = [];
}

const MAX_DEPTH = 32;

/** Scans `line` into `scan`; the member count, or -1 to decline (see the file comment). */
export function scanCanonical(line: string, scan: LineScan): number {
  const n = line.length;
  if (n < 2 || line.charCodeAt(0) !== 0x7b || line.charCodeAt(n - 1) !== 0x7d) return -1;
  scan.count = 0;
  if (n === 2) return 0;
  let i = 1;
  for (;;) {
    if (line.charCodeAt(i) !== 0x22) return -1;
    const ks = i + 1;
    const ke = stringEnd(line, ks);
    if (ke < 0 || ke === ks) return -1; // "" as a key: declined (rare; keeps the checks simple)
    if (!plainKey(line, ks, ke) || duplicate(line, scan, ks, ke)) return -1;
    i = ke + 1;
    if (line.charCodeAt(i) !== 0x3a) return -1;
    const vs = i + 1;
    const c = line.charCodeAt(vs);
    let kind = OTHER;
    if (c === 0x22) {
      const e = stringEnd(line, vs + 1);
      if (e < 0) return -1;
      i = e + 1;
      kind = STRING;
    } else {
      i = valueEnd(line, vs, 0);
      if (i < 0) return -1;
      if (c === 0x6e) kind = NULL;
    }
    const k = scan.count++;
    scan.keyStart[k] = ks;
    scan.keyEnd[k] = ke;
    scan.valueStart[k] = vs;
    scan.valueEnd[k] = i;
    scan.kind[k] = kind;
    const d = line.charCodeAt(i);
    if (d === 0x2c) {
      i++;
      continue;
    }
    return d === 0x7d && i === n - 1 ? scan.count : -1;
  }
}

/** Index of the closing quote of a string whose text starts at `i`, or -1 (escape, control, surrogate, unterminated). */
function stringEnd(line: string, i: number): number {
  for (const n = line.length; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) return i;
    if (c === 0x5c || c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) return -1;
  }
  return -1;
}

/** Not all digits (array-index-like keys are reordered by V8) and not `__proto__`. */
function plainKey(line: string, s: number, e: number): boolean {
  let digits = true;
  for (let i = s; i < e && digits; i++) {
    const c = line.charCodeAt(i);
    digits = c >= 0x30 && c <= 0x39;
  }
  return !digits && !(e - s === 9 && line.startsWith("__proto__", s));
}

function duplicate(line: string, scan: LineScan, s: number, e: number): boolean {
  const len = e - s;
  for (let k = 0; k < scan.count; k++) {
    const ks = scan.keyStart[k];
    if (scan.keyEnd[k] - ks !== len) continue;
    let j = 0;
    while (j < len && line.charCodeAt(ks + j) === line.charCodeAt(s + j)) j++;
    if (j === len) return true;
  }
  return false;
}

/** End of a non-string value at `i` (literal, canonical number, array), or -1. */
function valueEnd(line: string, i: number, depth: number): number {
  const c = line.charCodeAt(i);
  if (c === 0x22) {
    const e = stringEnd(line, i + 1);
    return e < 0 ? -1 : e + 1;
  }
  if (c === 0x74) return line.startsWith("true", i) ? i + 4 : -1;
  if (c === 0x66) return line.startsWith("false", i) ? i + 5 : -1;
  if (c === 0x6e) return line.startsWith("null", i) ? i + 4 : -1;
  if (c === 0x5b) {
    if (depth >= MAX_DEPTH) return -1;
    i++;
    if (line.charCodeAt(i) === 0x5d) return i + 1;
    for (;;) {
      i = valueEnd(line, i, depth + 1);
      if (i < 0) return -1;
      const d = line.charCodeAt(i);
      if (d === 0x5d) return i + 1;
      if (d !== 0x2c) return -1;
      i++;
    }
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return numberEnd(line, i);
  return -1; // a nested object, whitespace or anything invalid
}

/** A number that JSON.stringify prints exactly as written, or -1. */
function numberEnd(line: string, s: number): number {
  let i = s;
  if (line.charCodeAt(i) === 0x2d) i++;
  const first = i;
  while (i < line.length && isNumberChar(line.charCodeAt(i))) i++;
  const len = i - first;
  if (len === 0) return -1;
  let simple = len <= 15 && !(len > 1 && line.charCodeAt(first) === 0x30) && !(first > s && len === 1 && line.charCodeAt(first) === 0x30);
  for (let j = first; simple && j < i; j++) {
    const c = line.charCodeAt(j);
    simple = c >= 0x30 && c <= 0x39;
  }
  if (simple) return i; // a safe integer without leading zero (and not -0): prints as written
  const text = line.slice(s, i);
  // JSON's grammar (RFC 8259 §6) first: Number() alone would also take "0x1f", "1." or "Infinity"
  if (!/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/.test(text)) return -1;
  return String(Number(text)) === text ? i : -1;
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}
