import { UsageError } from "../errors.js";
import type { EncryptionContext } from "./keyring.js";

/** Limits on an encryption context (docs/format.md §Limits). */
export const CONTEXT_LIMITS = {
  maxPairs: 64,
  maxKeyBytes: 128,
  maxValueBytes: 1024,
} as const;

const KEY_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** A context key pipeseal accepts: the charset, the length, and not `__proto__` (which a plain object would swallow). */
export function isValidContextKey(key: string): boolean {
  return KEY_PATTERN.test(key) && Buffer.byteLength(key) <= CONTEXT_LIMITS.maxKeyBytes && key !== "__proto__";
}

/**
 * Validates a context and returns it with keys sorted, so that every encoding of the
 * same pairs is byte-identical.
 * @throws UsageError(INVALID_ARGUMENT) on a bad key, a too-long key or value, or too many pairs.
 */
export function normalizeContext(context: EncryptionContext): EncryptionContext {
  const keys = Object.keys(context).sort();
  if (keys.length > CONTEXT_LIMITS.maxPairs) {
    throw new UsageError("INVALID_ARGUMENT", `an encryption context holds at most ${CONTEXT_LIMITS.maxPairs} pairs`);
  }
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = context[key];
    if (typeof value !== "string") throw new UsageError("INVALID_ARGUMENT", `context value for "${key}" must be a string`);
    if (!isValidContextKey(key)) {
      throw new UsageError(
        "INVALID_ARGUMENT",
        `context key "${key.slice(0, 40)}" must be 1-${CONTEXT_LIMITS.maxKeyBytes} characters of A-Z a-z 0-9 _ . : - (and not __proto__)`,
      );
    }
    if (Buffer.byteLength(value) > CONTEXT_LIMITS.maxValueBytes) {
      throw new UsageError("INVALID_ARGUMENT", `context value for "${key}" is longer than ${CONTEXT_LIMITS.maxValueBytes} bytes`);
    }
    out[key] = value;
  }
  return out;
}

/**
 * Canonical bytes of a context: u16 BE pair count, then per pair (keys in byte order)
 * u16 BE key length, key UTF-8, u16 BE value length, value UTF-8.
 * The same bytes are used in the sealed-file header and as associated data of key wraps.
 */
export function encodeContext(context: EncryptionContext): Buffer {
  const sorted = normalizeContext(context);
  const parts: Buffer[] = [u16(Object.keys(sorted).length)];
  for (const [key, value] of Object.entries(sorted)) {
    const k = Buffer.from(key, "utf8");
    const v = Buffer.from(value, "utf8");
    parts.push(u16(k.length), k, u16(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses `a=b,c=d` (the CLI form). Values may contain `=`; pairs are split on `,`. */
export function parseContextArg(text: string): EncryptionContext {
  const out: Record<string, string> = {};
  if (text.trim() === "") return out;
  for (const pair of text.split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError("INVALID_ARGUMENT", `context pair "${pair}" is not key=value`);
    const key = pair.slice(0, eq).trim();
    if (!isValidContextKey(key)) normalizeContext({ [key]: "" }); // throws the explanatory error
    if (Object.hasOwn(out, key)) throw new UsageError("INVALID_ARGUMENT", `context key "${key}" is given twice`);
    out[key] = pair.slice(eq + 1);
  }
  return normalizeContext(out);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
