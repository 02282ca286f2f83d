/**
 * Seeing through encodings. Secrets in logs often arrive escaped: inside a JSON string
 * (`\"`, `\u0040`), URL-encoded (`%40`), or base64-encoded. Each decoder returns the decoded
 * text and, for every decoded character, the offset of the raw text it came from, so a
 * finding in decoded text maps back to the exact raw span that must be redacted.
 */

export interface Decoded {
  readonly text: string;
  /** map[i] = raw offset of decoded char i; map[text.length] = raw length. */
  readonly map: Int32Array;
}

const JSON_SIMPLE: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** True if `text` holds JSON escapes that could hide a match (`\"`, `\\`, `\/`, `\uXXXX`). */
export const hasJsonEscapes = (text: string): boolean => /\\(?:u[0-9A-Fa-f]{4}|["/\\])/.test(text);

/** Un-escapes JSON string escapes (RFC 8259 §7) wherever they appear; other text is copied. */
export function decodeJsonEscapes(raw: string): Decoded {
  const out: string[] = [];
  const map = new Int32Array(raw.length + 1);
  let n = 0;
  for (let i = 0; i < raw.length;) {
    const c = raw[i];
    if (c === "\\" && i + 1 < raw.length) {
      const e = raw[i + 1];
      if (e in JSON_SIMPLE) {
        map[n++] = i;
        out.push(JSON_SIMPLE[e]);
        i += 2;
        continue;
      }
      if (e === "u" && /^[0-9A-Fa-f]{4}$/.test(raw.slice(i + 2, i + 6))) {
        map[n++] = i;
        out.push(String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16)));
        i += 6;
        continue;
      }
    }
    map[n++] = i;
    out.push(c);
    i++;
  }
  map[n] = raw.length;
  return { text: out.join(""), map: map.subarray(0, n + 1) };
}

/** True if `text` holds %XX escapes. */
export const hasUrlEscapes = (text: string): boolean => /%[0-9A-Fa-f]{2}/.test(text);

/** Decodes %XX (RFC 3986 §2.1) byte by byte; bytes ≥ 0x80 become one Latin-1 char each, so offsets stay simple. */
export function decodeUrlEscapes(raw: string): Decoded {
  const out: string[] = [];
  const map = new Int32Array(raw.length + 1);
  let n = 0;
  for (let i = 0; i < raw.length;) {
    if (raw[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) {
      map[n++] = i;
      out.push(String.fromCharCode(parseInt(raw.slice(i + 1, i + 3), 16)));
      i += 3;
      continue;
    }
    map[n++] = i;
    out.push(raw[i]);
    i++;
  }
  map[n] = raw.length;
  return { text: out.join(""), map: map.subarray(0, n + 1) };
}

/** Base64 / base64url runs of at least 20 characters (RFC 4648 §4, §5). */

export interface Base64Run {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function printable(s: string): boolean {
  if (s.length === 0 || s.includes("\uFFFD")) return false;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13) ok++;
  }
  return ok / s.length >= 0.95;
}

/** Character classes for the base64 scanner: 0 = not base64, 1 = lower a-f, 2 = other lower, 3 = upper, 4 = digit, 5 = + or /, 6 = - or _. */
const B64_CLASS = new Uint8Array(128);
for (let c = 97; c <= 122; c++) B64_CLASS[c] = c <= 102 ? 1 : 2;
for (let c = 65; c <= 90; c++) B64_CLASS[c] = 3;
for (let c = 48; c <= 57; c++) B64_CLASS[c] = 4;
B64_CLASS[43] = B64_CLASS[47] = 5;
B64_CLASS[45] = B64_CLASS[95] = 6;

/**
 * Base64 runs in `raw` that decode to printable text (binary blobs, images, hashes decode to
 * junk and are skipped). A hand-written scanner: one pass, no regex, and runs that cannot be
 * base64 of text (no upper-case letter, no digit or +/, hex with dashes, mixed alphabets) are
 * dropped before any decoding.
 */
export function decodedBase64Runs(raw: string, maxRunLength = 1 << 20): Base64Run[] {
  const out: Base64Run[] = [];
  const n = raw.length;
  let i = 0;
  while (i < n) {
    const c0 = raw.charCodeAt(i);
    if (c0 >= 128 || B64_CLASS[c0] === 0) {
      i++;
      continue;
    }
    const start = i;
    let upper = false;
    let digitOrSym = false;
    let nonHex = false;
    let std = false;
    let url = false;
    for (; i < n; i++) {
      const c = raw.charCodeAt(i);
      const k = c < 128 ? B64_CLASS[c] : 0;
      if (k === 0) break;
      if (k === 3) upper = true;
      else if (k === 4) digitOrSym = true;
      else if (k === 5) {
        digitOrSym = true;
        std = true;
      } else if (k === 6) url = true;
      if (k === 2 || (k === 3 && (c < 65 || c > 70))) nonHex = true;
    }
    let end = i;
    while (end < n && end - i < 2 && raw.charCodeAt(end) === 61 /* = */) end++;
    const len = i - start;
    if (end < n && raw.charCodeAt(end) === 61) continue; // more padding than base64 allows
    if (len < 20 || len > maxRunLength || !upper || !digitOrSym || !nonHex || (std && url)) continue;
    const run = raw.slice(start, end);
    const enc = url ? "base64url" : "base64";
    const head = Buffer.from(run.slice(0, 88), enc).toString("utf8");
    if (!printable(head.slice(0, Math.max(1, head.length - 3)))) continue;
    const text = Buffer.from(run, enc).toString("utf8");
    if (!printable(text)) continue;
    out.push({ start, end, text });
  }
  return out;
}
