/**
 * The `encrypt` action: AES-256-GCM (NIST SP 800-38D) per value, a random 96-bit IV each time,
 * AAD binding the format, key, version, the concrete field path and the record id (gcm.ts), so
 * a value moved to another field or record, or altered, does not reveal (DECRYPT_FAILED).
 * Leaks the plaintext length.
 */
import type { FieldGcm } from "../gcm.js";
import type { FieldKey } from "../keys.js";
import { type FieldValue, decodePlain, encodePlain } from "../value-format.js";

type Where = { row: number; field: string };

/** Seals a clear value: `pse1:e:…`. @throws FieldError for a value no action can hold */
export function apply(gcm: FieldGcm, key: FieldKey, value: unknown, path: string, recordId: string, where: Where): string {
  return gcm.sealValue(key, value, path, recordId, where);
}

/** The clear value of a parsed `e` payload (its plaintext buffer wiped). @throws FieldError(DECRYPT_FAILED) */
export function reveal(gcm: FieldGcm, key: FieldKey, payload: Buffer, path: string, recordId: string, where: Where): FieldValue {
  const plain = gcm.open(key, payload, path, recordId, where);
  const clear = decodePlain(plain);
  plain.fill(0);
  return clear;
}

/** Re-seals a revealed value under the rewrap target (a new IV; the same path and record id). */
export function rewrap(gcm: FieldGcm, target: FieldKey, clear: FieldValue, path: string, recordId: string, where: Where): string {
  return gcm.seal(target, encodePlain(clear, where), path, recordId);
}
