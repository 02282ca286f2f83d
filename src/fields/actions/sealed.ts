/**
 * What `encrypt` and `deterministic` share: both seal a value into the `pse1:` format under a
 * named key or the record's subject key, so the choice of that key, the refusal of an erased
 * subject, the check that a subject-keyed value sits in its subject's record and the steps of
 * reveal and rewrap are written once here; each of the two modules brings only its cipher.
 */
import { FieldError } from "../errors.js";
import { ERASED, type FieldKey } from "../keys.js";
import type { FieldMatch } from "../path.js";
import type { FieldRule } from "../policy.js";
import { type FieldValue, readValue } from "../value-format.js";
import type { ApplyScope, Reversed, ReverseScope, Where } from "./action.js";

/** The cipher of one sealing action. */
export interface SealedCipher {
  readonly action: "encrypt" | "deterministic";
  /** The action's letter in the value format (`pse1:<code>:…`). */
  readonly code: "e" | "d";
  /** The clear value of a parsed payload. @throws FieldError(DECRYPT_FAILED) */
  reveal(scope: ReverseScope, key: FieldKey, payload: Buffer, match: FieldMatch, where: Where): FieldValue;
  /** A revealed value sealed again under `target`. */
  rewrap(scope: ReverseScope, target: FieldKey, clear: FieldValue, match: FieldMatch, where: Where): string;
}

/**
 * The key a rule seals new values with: the record's subject key for a rule with `subject:`
 * (a subject's only live version is its current one; ERASED once erased), else the primary of
 * `keyName`.
 */
function sealingKey(scope: ApplyScope, rule: FieldRule, keyName: string, action: SealedCipher["action"]): Promise<FieldKey | typeof ERASED> {
  if (rule.subject) return scope.keys.subjectForApply(scope.namespace, scope.subjectId(rule), action);
  return scope.keys.named(keyName, "primary", action);
}

/** The key apply seals with. @throws FieldError(KEY_DESTROYED) for an erased subject: new data for it is refused */
export async function applyKey(scope: ApplyScope, rule: FieldRule, action: SealedCipher["action"], where: Where): Promise<FieldKey> {
  const key = await sealingKey(scope, rule, rule.key!, action);
  if (key === ERASED) throw new FieldError("KEY_DESTROYED", "the record's subject was erased; new data for it is refused", where);
  return key;
}

/**
 * A subject-keyed value must sit in its subject's record. The value's key reference
 * (`@ns~ref`, bound into its AAD and naming the subject key that seals it) is compared with
 * the ref of the record's clear subject: a value moved to another subject's record, or a
 * record whose subject field was changed, would otherwise reveal one subject's data as
 * another's, and rewrap would re-seal it under the other subject's key, out of reach of the
 * first subject's erasure. Checked before any key is looked up; never revealed or rewrapped.
 * @throws FieldError(FIELD_MALFORMED)
 */
async function checkSubject(scope: ReverseScope, rule: FieldRule, keyRef: string, where: Where): Promise<void> {
  const expected = await scope.keys.subjectRef(scope.namespace, scope.subjectId(rule));
  if (expected !== keyRef) {
    throw new FieldError(
      "FIELD_MALFORMED",
      "the value is sealed for another data subject than this record's (moved from another record, or the record's subject field was changed); it is neither revealed nor rewrapped",
      where,
    );
  }
}

/**
 * Reveals a sealed value, or with `scope.rewrap` moves it to the key its rule names now, at
 * its current version: a rule with `subject:` names the record's subject key, so values move
 * between named and subject keys as the policy changes; without it, a named-key value goes to
 * its own key's primary and a subject value to the rule's key.
 */
export async function reverseSealed(
  cipher: SealedCipher,
  scope: ReverseScope,
  rule: FieldRule,
  match: FieldMatch,
  value: unknown,
  where: Where,
): Promise<Reversed> {
  // a value that does not parse is FIELD_MALFORMED; a well-formed value of the other
  // action was moved here from another field: an authentication failure like any move
  const parsed = readValue(value, where);
  if (parsed.action !== cipher.code) {
    throw new FieldError("DECRYPT_FAILED", `the value is not a pipeseal ${cipher.action} value (moved from another field, or altered)`, where);
  }
  const bySubject = parsed.keyRef.startsWith("@");
  if (rule.subject && bySubject) await checkSubject(scope, rule, parsed.keyRef, where);
  const key = bySubject
    ? await scope.keys.subjectForReveal(parsed.keyRef, parsed.version, cipher.action)
    : await scope.keys.named(parsed.keyRef, parsed.version, cipher.action);
  if (key === ERASED) return "erased";
  const clear = cipher.reveal(scope, key, parsed.payload, match, where);
  scope.revealed(match.path, clear);
  if (!scope.rewrap) return { write: clear };
  const target = await sealingKey(scope, rule, bySubject ? rule.key! : parsed.keyRef, cipher.action);
  // the rule now names the subject's key and the subject was erased: its data goes too
  if (target === ERASED) return "erased";
  if (target.keyRef === parsed.keyRef && target.version === parsed.version) return "unchanged";
  // the record id is fixed at the first rewrap of either action; the protector reveals the
  // record id's own field before any other, so this reads its plaintext
  scope.recordId();
  return { write: cipher.rewrap(scope, target, clear, match, where) };
}
