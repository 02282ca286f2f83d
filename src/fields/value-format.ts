/**
 * Self-describing protected values (docs/fields.md, "Value format"):
 *
 *   value   = "pse1:" action ":" keyref ":" version ":" payload
 *   action  = "e" (randomized, AES-256-GCM) / "d" (deterministic, AES-SIV)
 *   keyref  = key-name / "@" namespace "~" subject-ref   (a subject key: src/fields/subjects)
 *   version = 1*10DIGIT
 *   payload = base64url, no padding
 *     e: iv(12) || ciphertext || tag(16)      d: siv(16) || ciphertext
 *
 * The plaintext inside is typed so a reveal restores the original JSON/Parquet type:
 *   tag(1) || bytes, tag "s" UTF-8 string, "n" number (shortest round-trip text), "b" boolean, "i" bigint.
 */
import { FieldError } from "./errors.js";

export const VALUE_RE = /^pse1:([ed]):(@[a-z0-9][a-z0-9_-]{0,63}~[A-Za-z0-9_-]{22}|[a-z0-9][a-z0-9._/-]{0,127}):([0-9]{1,10}):([A-Za-z0-9_-]+)$/;

export interface ParsedValue {
  readonly action: "e" | "d";
  readonly keyRef: string;
  readonly version: number;
  readonly payload: Buffer;
}

export function formatValue(action: "e" | "d", keyRef: string, version: number, payload: Uint8Array): string {
  return `pse1:${action}:${keyRef}:${version}:${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64url")}`;
}

/** Smallest payloads: iv(12) + tag(16), or siv(16), around at least the one-byte type tag. */
const MIN_PAYLOAD = { e: 12 + 16 + 1, d: 16 + 1 } as const;

/**
 * Why `text` is not a well-formed protected value, or the parsed value. Structure only: a
 * well-formed value may still fail to authenticate. The payload must be canonical base64url
 * (RFC 4648 §5, no padding, zero pad bits, §3.5), so one value has one spelling.
 */
function parse(text: unknown): ParsedValue | string {
  if (typeof text !== "string") return `a ${text === null ? "null" : typeof text} is not a protected value`;
  if (!text.startsWith("pse1:")) return /^pse[0-9]+:/.test(text) ? "unknown value format version" : "not a pipeseal field value (never protected, or altered)";
  const m = VALUE_RE.exec(text);
  if (!m) return "the value's action, key reference, version or payload characters are malformed";
  const version = Number(m[3]);
  if (version < 1 || version > 0xffffffff) return "the key version is out of range";
  const b64 = m[4];
  const payload = Buffer.from(b64, "base64url");
  if (b64.length % 4 === 1 || payload.toString("base64url") !== b64) return "the payload is not canonical base64url (truncated or altered)";
  const action = m[1] as "e" | "d";
  if (payload.length < MIN_PAYLOAD[action]) return "the payload is too short (truncated)";
  return { action, keyRef: m[2], version, payload };
}

/** Parses a protected value; null if `text` is not one (a plain value, or malformed). */
export function parseValue(text: unknown): ParsedValue | null {
  const r = parse(text);
  return typeof r === "string" ? null : r;
}

/**
 * Parses a protected value for reveal or rewrap.
 * @throws FieldError(FIELD_MALFORMED) naming what is wrong with its structure (never the value)
 */
export function readValue(text: unknown, where: { row?: number; field?: string }): ParsedValue {
  const r = parse(text);
  if (typeof r === "string") throw new FieldError("FIELD_MALFORMED", r, where);
  return r;
}

export type FieldValue = string | number | boolean | bigint;

/** Typed plaintext encoding. @throws FieldError for values no action can hold (objects, NaN…). */
export function encodePlain(v: unknown, where: { row?: number; field?: string }): Buffer {
  switch (typeof v) {
    case "string":
      // UTF-8 cannot carry a lone surrogate: refuse rather than change the value silently
      if (!(v as string & { isWellFormed(): boolean }).isWellFormed())
        throw new FieldError("INVALID_ARGUMENT", "the string has a lone UTF-16 surrogate (not valid Unicode)", where);
      return Buffer.concat([Buffer.of(0x73), Buffer.from(v, "utf8")]);
    case "number":
      if (!Number.isFinite(v)) throw new FieldError("INVALID_ARGUMENT", "a non-finite number cannot be protected", where);
      return Buffer.from("n" + String(v), "utf8");
    case "boolean":
      return Buffer.from(v ? "btrue" : "bfalse", "utf8");
    case "bigint":
      return Buffer.from("i" + v.toString(), "utf8");
    default:
      throw new FieldError(
        "INVALID_ARGUMENT",
        `a ${v === null ? "null" : Array.isArray(v) ? "array" : typeof v} value cannot be protected by this action`,
        where,
      );
  }
}

/**
 * encodePlain of a well-formed string written into `scratch` from offset 0 (the hot path of
 * randomized encryption: no allocation). Returns the length, or -1 when `v` is not a string,
 * is not well-formed or might not fit: then call encodePlain (which also throws the typed
 * errors). Same bytes as encodePlain (a test checks).
 */
export function encodePlainInto(v: unknown, scratch: Buffer): number {
  if (typeof v !== "string" || v.length * 3 + 1 > scratch.length || !(v as string & { isWellFormed(): boolean }).isWellFormed()) return -1;
  scratch[0] = 0x73;
  return 1 + scratch.write(v, 1, "utf8");
}

/** Inverse of encodePlain. Only called on authenticated plaintext. */
export function decodePlain(b: Buffer): FieldValue {
  const body = b.subarray(1).toString("utf8");
  switch (b[0]) {
    case 0x73:
      return body;
    case 0x6e:
      return Number(body);
    case 0x62:
      return body === "true";
    case 0x69:
      return BigInt(body);
    default:
      throw new FieldError("DECRYPT_FAILED", "the protected value has an unknown type tag");
  }
}
