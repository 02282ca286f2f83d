/**
 * The `deterministic` action: AES-SIV (RFC 5297) with the key/version header and the field's
 * schema path as associated data, so equal values give equal ciphertexts within a field and
 * key version (joins still work). Leaks that equality and the plaintext length. The key
 * choice and the reveal/rewrap steps it shares with `encrypt` are sealed.ts.
 */
import { FieldError } from "../errors.js";
import type { FieldKey } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import { type FieldValue, decodePlain, encodePlain, formatValue } from "../value-format.js";
import type { ApplyScope, Reversed, ReverseScope, Where } from "./action.js";
import { type SealedCipher, applyKey, reverseSealed } from "./sealed.js";

function seal(key: FieldKey, value: unknown, schemaPath: string, where: Where): string {
  return formatValue("d", key.keyRef, key.version, key.siv().seal(encodePlain(value, where), [key.aadPrefix, Buffer.from(schemaPath, "utf8")]));
}

/** Seals a clear value: `pse1:d:…`. @throws FieldError for a value no action can hold */
export async function apply(scope: ApplyScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<string> {
  return seal(await applyKey(scope, rule, "deterministic", where), value, match.schemaPath, where);
}

/** The clear value of a parsed `d` payload (its plaintext buffer wiped). @throws FieldError(DECRYPT_FAILED) */
export function reveal(_scope: ReverseScope, key: FieldKey, payload: Buffer, match: FieldMatch, where: Where): FieldValue {
  let plain: Buffer;
  try {
    plain = key.siv().open(payload, [key.aadPrefix, Buffer.from(match.schemaPath, "utf8")]);
  } catch {
    throw new FieldError("DECRYPT_FAILED", "the value could not be authenticated (altered, moved to another field, or another key)", where);
  }
  const clear = decodePlain(plain);
  plain.fill(0);
  return clear;
}

/** Re-seals a revealed value under the rewrap target (deterministic under the target, as apply). */
export function rewrap(_scope: ReverseScope, target: FieldKey, clear: FieldValue, match: FieldMatch, where: Where): string {
  return seal(target, clear, match.schemaPath, where);
}

const cipher: SealedCipher = { action: "deterministic", code: "d", reveal, rewrap };

/** Reveals a `d` value, or rewraps it. @throws FieldError */
export function reverse(scope: ReverseScope, rule: FieldRule, match: FieldMatch, value: unknown, where: Where): Promise<Reversed> {
  return reverseSealed(cipher, scope, rule, match, value, where);
}
