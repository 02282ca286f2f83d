/**
 * The `deterministic` action: AES-SIV (RFC 5297) with the key/version header and the field's
 * schema path as associated data, so equal values give equal ciphertexts within a field and
 * key version (joins still work). Leaks that equality and the plaintext length.
 */
import { FieldError } from "../errors.js";
import type { FieldKey } from "../keys.js";
import { type FieldValue, decodePlain, encodePlain, formatValue } from "../value-format.js";

type Where = { row: number; field: string };

/** Seals a clear value: `pse1:d:…`. @throws FieldError for a value no action can hold */
export function apply(key: FieldKey, value: unknown, schemaPath: string, where: Where): string {
  return formatValue("d", key.keyRef, key.version, key.siv().seal(encodePlain(value, where), [key.aadPrefix, Buffer.from(schemaPath, "utf8")]));
}

/** The clear value of a parsed `d` payload (its plaintext buffer wiped). @throws FieldError(DECRYPT_FAILED) */
export function reveal(key: FieldKey, payload: Buffer, schemaPath: string, where: Where): FieldValue {
  let plain: Buffer;
  try {
    plain = key.siv().open(payload, [key.aadPrefix, Buffer.from(schemaPath, "utf8")]);
  } catch {
    throw new FieldError("DECRYPT_FAILED", "the value could not be authenticated (altered, moved to another field, or another key)", where);
  }
  const clear = decodePlain(plain);
  plain.fill(0);
  return clear;
}

/** Re-seals a revealed value under the rewrap target (deterministic under the target, as apply). */
export function rewrap(target: FieldKey, clear: FieldValue, schemaPath: string, where: Where): string {
  return apply(target, clear, schemaPath, where);
}
