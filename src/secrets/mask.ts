/**
 * Masking known secret values in a byte stream (a child's stdout/stderr), streaming.
 *
 * Not the redaction engine (src/redact): that one finds *unknown* secrets with detectors over
 * lines of decoded text; here the values are known exactly, output is bytes (not necessarily
 * UTF-8, not necessarily line-based: progress bars, binary), and throughput must stay in the
 * hundreds of MB/s. So: a small multi-pattern literal matcher over Buffers (Buffer#indexOf is
 * native), leftmost-longest, non-overlapping.
 *
 * Streaming rule: a match may be split across writes, so the masker holds back the shortest
 * tail that could still begin a pattern: bytes from the first position p (at most
 * maxLength-1 from the end) where the rest of the buffer is a proper prefix of some pattern.
 * Output that cannot start a secret is released at once, so an interactive prompt is not
 * delayed; a secret is never released in pieces.
 */

export interface MaskPattern {
  readonly bytes: Buffer;
  readonly replacement: Buffer;
}

/** Base64 characters fully determined by `value` when it sits at byte offset 0, 1 or 2 of a larger base64-encoded blob. */
function base64Cores(value: Buffer, alphabet: "base64" | "base64url"): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const text = Buffer.concat([Buffer.alloc(offset), value])
      .toString(alphabet)
      .replace(/=+$/, "");
    const first = Math.ceil((8 * offset) / 6); // characters that mix in bits of the bytes before the value
    const last = Math.floor((8 * (offset + value.length)) / 6); // characters wholly inside the value
    out.push(text.slice(first, last));
  }
  return out;
}

/**
 * The forms of one secret that are masked: the raw bytes, its base64 and base64url (at every
 * alignment, so it is found inside a larger encoded blob such as a Basic auth header),
 * URL-encoded (encodeURIComponent and form `+`), and JSON-escaped. Encoded forms shorter than
 * 8 characters are skipped (they would mask ordinary text); the raw value is always masked.
 */
export function maskPatterns(name: string, value: Buffer): MaskPattern[] {
  const replacement = Buffer.from(`[SECRET:${name}]`);
  const forms = new Set<string>();
  const text = value.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(value);
  for (const alphabet of ["base64", "base64url"] as const) {
    forms.add(value.toString(alphabet)); // the whole encoding of the value alone, padding included (longest match wins)
    for (const core of base64Cores(value, alphabet)) forms.add(core);
  }
  if (isText) {
    const uri = encodeURIComponent(text);
    forms.add(uri);
    forms.add(uri.replace(/%20/g, "+"));
    forms.add(JSON.stringify(text).slice(1, -1));
    forms.add(JSON.stringify(text).slice(1, -1).replace(/\//g, "\\/"));
    // Python's json.dumps (ensure_ascii) writes non-ASCII as \uXXXX
    forms.add(
      JSON.stringify(text)
        .slice(1, -1)
        .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    );
  }
  const patterns: MaskPattern[] = [{ bytes: Buffer.from(value), replacement }];
  for (const f of forms) if (f.length >= 8 && f !== text) patterns.push({ bytes: Buffer.from(f, "utf8"), replacement });
  return patterns;
}

export class StreamMasker {
  readonly #patterns: MaskPattern[];
  readonly #maxLength: number;
  #tail: Buffer = Buffer.alloc(0);
  /** Secrets masked so far. */
  masked = 0;

  constructor(patterns: readonly MaskPattern[]) {
    this.#patterns = patterns.filter((p) => p.bytes.length > 0);
    this.#maxLength = Math.max(1, ...this.#patterns.map((p) => p.bytes.length));
  }

  /** Masks `chunk` and returns what can be released now. The chunk and the held tail are wiped once copied. */
  write(chunk: Buffer): Buffer {
    const buf = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    const out = this.#process(buf, false);
    if (buf !== chunk) this.#tail.fill(0);
    const keep = this.#keepFrom;
    this.#tail = keep < buf.length ? Buffer.from(buf.subarray(keep)) : Buffer.alloc(0);
    buf.fill(0);
    if (buf !== chunk) chunk.fill(0);
    return out;
  }

  /** Releases the held tail (masking any whole match in it). */
  end(): Buffer {
    const out = this.#process(this.#tail, true);
    this.#tail.fill(0);
    this.#tail = Buffer.alloc(0);
    return out;
  }

  /** Wipes the patterns (they are copies of the secrets). */
  wipe(): void {
    for (const p of this.#patterns) p.bytes.fill(0);
    this.#tail.fill(0);
  }

  #keepFrom = 0;

  #process(buf: Buffer, final: boolean): Buffer {
    const boundary = final ? buf.length : buf.length - (this.#maxLength - 1);
    const matches: { start: number; end: number; p: MaskPattern }[] = [];
    for (const p of this.#patterns) {
      for (let at = buf.indexOf(p.bytes); at !== -1; at = buf.indexOf(p.bytes, at + 1)) matches.push({ start: at, end: at + p.bytes.length, p });
    }
    matches.sort((a, b) => a.start - b.start || b.end - a.end);
    const parts: Buffer[] = [];
    let pos = 0;
    let firstDeferred = buf.length;
    for (const m of matches) {
      if (m.start < pos) continue; // overlaps a match already taken
      if (m.start >= boundary) {
        firstDeferred = m.start; // a longer pattern starting here may still complete: decide next time
        break;
      }
      parts.push(buf.subarray(pos, m.start), m.p.replacement);
      pos = m.end;
      this.masked++;
    }
    const keep = final ? buf.length : Math.min(firstDeferred, this.#partialStart(buf, Math.max(pos, boundary)));
    if (keep > pos) parts.push(buf.subarray(pos, keep));
    this.#keepFrom = Math.max(keep, pos);
    return Buffer.concat(parts);
  }

  /** The first position >= from where buf's remainder is a proper prefix of a pattern (buf.length if none). */
  #partialStart(buf: Buffer, from: number): number {
    let best = buf.length;
    for (const p of this.#patterns) {
      const first = p.bytes[0];
      for (let at = buf.indexOf(first, Math.max(from, buf.length - p.bytes.length + 1)); at !== -1 && at < best; at = buf.indexOf(first, at + 1)) {
        const n = buf.length - at;
        if (n < p.bytes.length && buf.compare(p.bytes, 0, n, at, buf.length) === 0) {
          best = at;
          break;
        }
      }
    }
    return best;
  }
}
