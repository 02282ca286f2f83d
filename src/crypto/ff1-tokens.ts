/**
 * Format-preserving tokens with FF1 (NIST SP 800-38G Rev. 1). Characters of the rule's
 * alphabet are enciphered in place; separators (characters that are not letters or digits)
 * stay where they are; `keepFirst`/`keepLast` alphabet characters and, with
 * `preserve: email-domain`, everything from the last "@" on are kept. A letter or digit outside
 * the alphabet is an error (it would otherwise pass through unprotected). Integers stay integers
 * of the same length and sign (cycle walking, SP 800-38G §4 footnote / Black–Rogaway, keeps the
 * first digit non-zero and the value inside the type's range).
 */
import type { Ff1 } from "./ff1.js";
import { FieldError } from "../errors.js";

/**
 * The alphabets a token may be drawn from. Here, below fields/ and redact/, because both
 * tokenize with the same construction: a field policy's `tokenize` rule and the redactor's
 * `tokenize` operator (fields/policy.ts re-exports them).
 */
export const ALPHABETS = {
  digits: "0123456789",
  lower: "0123456789abcdefghijklmnopqrstuvwxyz",
  alnum: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
} as const;
export type AlphabetName = keyof typeof ALPHABETS;

export interface TokenSpec {
  readonly alphabet: AlphabetName;
  readonly keepFirst: number;
  readonly keepLast: number;
  readonly preserve?: "email-domain";
}

type Where = { row?: number; field?: string };
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_I64 = (1n << 63n) - 1n;
const CYCLE_LIMIT = 1000;

/** Tokenizes (enc) or reveals (!enc) one value. Numbers and bigints stay numbers and bigints. */
export function tokenValue(ff1: Ff1, spec: TokenSpec, tweak: Buffer, value: unknown, enc: boolean, where: Where): string | number | bigint {
  if (typeof value === "string") return tokenString(ff1, spec, tweak, value, enc, where, () => true);
  if (typeof value === "number" || typeof value === "bigint") {
    if (typeof value === "number" && !Number.isSafeInteger(value))
      throw new FieldError("INVALID_ARGUMENT", "only safe integers can be tokenized as numbers (use a string column for others)", where);
    const neg = value < 0;
    const digits = (neg ? -BigInt(value) : BigInt(value)).toString();
    const max = typeof value === "number" ? MAX_SAFE : MAX_I64;
    const ok = (s: string) => (s.length === 1 || s[0] !== "0") && BigInt(s) <= max;
    const out = tokenString(ff1, { ...spec, alphabet: "digits", preserve: undefined }, tweak, digits, enc, where, ok);
    const n = BigInt(out) * (neg ? -1n : 1n);
    return typeof value === "number" ? Number(n) : n;
  }
  throw new FieldError("INVALID_ARGUMENT", `a ${value === null ? "null" : typeof value} value cannot be tokenized`, where);
}

function tokenString(ff1: Ff1, spec: TokenSpec, tweak: Buffer, value: string, enc: boolean, where: Where, ok: (s: string) => boolean): string {
  const alphabet = ALPHABETS[spec.alphabet];
  const chars = [...value];
  let end = chars.length;
  if (spec.preserve === "email-domain") {
    const at = chars.lastIndexOf("@");
    if (at < 0) throw new FieldError("INVALID_ARGUMENT", "preserve: email-domain needs an e-mail address", where);
    end = at;
  }
  const positions: number[] = [];
  for (let i = 0; i < end; i++) {
    const c = chars[i];
    if (alphabet.includes(c)) positions.push(i);
    else if (/[\p{L}\p{N}]/u.test(c))
      throw new FieldError(
        "INVALID_ARGUMENT",
        `contains a letter or digit outside the ${spec.alphabet} alphabet (choose alphabet: alnum, or mask/encrypt this field)`,
        where,
      );
  }
  const middle = positions.slice(spec.keepFirst, Math.max(spec.keepFirst, positions.length - spec.keepLast));
  if (middle.length < ff1.minLength()) {
    throw new FieldError(
      "INVALID_ARGUMENT",
      `too short to tokenize: needs at least ${ff1.minLength()} ${spec.alphabet} characters beyond those kept (a domain of ≥ 10^6 values, NIST SP 800-38G Rev. 1)`,
      where,
    );
  }
  const radixIndex = (c: string) => alphabet.indexOf(c);
  let x = middle.map((i) => radixIndex(chars[i]));
  const assemble = (digits: number[]) => {
    const out = [...chars];
    middle.forEach((pos, j) => (out[pos] = alphabet[digits[j]]!));
    return out.join("");
  };
  for (let n = 0; n < CYCLE_LIMIT; n++) {
    x = enc ? ff1.encrypt(x, tweak) : ff1.decrypt(x, tweak);
    const s = assemble(x);
    if (ok(s)) return s;
  }
  throw new FieldError("INVALID_ARGUMENT", "cycle walking did not reach a valid token", where);
}
