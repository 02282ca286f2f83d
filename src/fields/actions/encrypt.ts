/**
 * The `encrypt` action: AES-256-GCM (NIST SP 800-38D) per value, a random 96-bit IV each time,
 * AAD binding the format, key, version, the concrete field path and the record id (gcm.ts), so
 * a value moved to another field or record, or altered, does not reveal (DECRYPT_FAILED).
 * Leaks the plaintext length. The key choice and the reveal/rewrap steps it shares with
 * `deterministic` are sealed.ts.
 */
import type { FieldGcm } from "../gcm.js";
import type { FieldKey } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import { type FieldValue, decodePlain, encodePlain } from "../value-format.js";
import type { ApplyScope, Reversed, ReverseScope, Where } from "./action.js";
import { type SealedCipher, applyKey, reverseSealed } from "./sealed.js";

/** Seals a clear value under a key in hand: `pse1:e:…` (also the protector's no-await hot path). @throws FieldError for a value no action can hold */
export function seal(gcm: FieldGcm, key: FieldKey, value: unknown, path: string, recordId: string, where: Where): string {
  return gcm.sealValue(key, value, path, recordId, where);
}

/** Seals a clear value under the rule's key (or the record's subject key). @throws FieldError */
export async function apply(scope: ApplyScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<string> {
  return seal(scope.gcm, await applyKey(scope, rule, "encrypt", where), value, match.path, scope.recordId(), where);
}

/** The clear value of a parsed `e` payload (its plaintext buffer wiped). @throws FieldError(DECRYPT_FAILED) */
export function reveal(scope: ReverseScope, key: FieldKey, payload: Buffer, match: FieldMatch, where: Where): FieldValue {
  const plain = scope.gcm.open(key, payload, match.path, scope.recordId(), where);
  const clear = decodePlain(plain);
  plain.fill(0);
  return clear;
}

/** Re-seals a revealed value under the rewrap target (a new IV; the same path and record id). */
export function rewrap(scope: ReverseScope, target: FieldKey, clear: FieldValue, match: FieldMatch, where: Where): string {
  return scope.gcm.seal(target, encodePlain(clear, where), match.path, scope.recordId());
}

const cipher: SealedCipher = { action: "encrypt", code: "e", reveal, rewrap };

/** Reveals an `e` value, or rewraps it. @throws FieldError */
export function reverse(scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Reversed> {
  return reverseSealed(cipher, scope, rule, match, value, where);
}
