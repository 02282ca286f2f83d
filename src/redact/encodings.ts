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
  for (let i = 0; i < raw.length; ) {
    const c = raw[i]!;
    if (c === "\\" && i + 1 < raw.length) {
      const e = raw[i + 1]!;
      if (e in JSON_SIMPLE) {
        map[n++] = i;
        out.push(JSON_SIMPLE[e]!);
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
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) {
      map[n++] = i;
      out.push(String.fromCharCode(parseInt(raw.slice(i + 1, i + 3), 16)));
      i += 3;
      continue;
    }
    map[n++] = i;
    out.push(raw[i]!);
    i++;
  }
  map[n] = raw.length;
  return { text: out.join(""), map: map.subarray(0, n + 1) };
}

/** Base64 / base64url runs of at least 20 characters (RFC 4648 §4, §5). */
const B64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/=_-])/g;

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

/** Base64 runs in `raw` that decode to printable text (binary blobs, images, hashes decode to junk and are skipped). */
export function decodedBase64Runs(raw: string, maxRunLength = 1 << 20): Base64Run[] {
  const out: Base64Run[] = [];
  const re = new RegExp(B64_RUN.source, "g");
  for (let m = re.exec(raw); m !== null; m = re.exec(raw)) {
    const run = m[0];
    if (run.length > maxRunLength) continue;
    // hashes, UUIDs, identifiers: base64 of text always holds an upper-case letter and a digit or +/
    if (/^[0-9a-fA-F-]+$/.test(run) || !/[A-Z]/.test(run) || !/[0-9+/]/.test(run) || /^[A-Za-z_]+$/.test(run)) continue;
    if (/^\d+$/.test(run)) continue;
    const url = /[-_]/.test(run);
    if (url && /[+/]/.test(run)) continue;
    const head = Buffer.from(run.slice(0, 88), url ? "base64url" : "base64").toString("utf8");
    if (!printable(head.slice(0, Math.max(1, head.length - 3)))) continue;
    const text = Buffer.from(run, url ? "base64url" : "base64").toString("utf8");
    if (!printable(text)) continue;
    out.push({ start: m.index, end: m.index + run.length, text });
  }
  return out;
}
