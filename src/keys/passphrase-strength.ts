/**
 * The minimum strength of a new keystore's passphrase. scrypt (N=2^17) makes each guess cost
 * ~0.3 s and 128 MiB on one core, but an attacker with keystore.db guesses offline, on as
 * many machines as they like: five characters fall in hours. A new passphrase needs at least
 * MIN_LENGTH characters and an estimated MIN_BITS of guessing entropy. Opening an existing
 * keystore never checks this (its passphrase is what it is; rotate by re-initialising).
 *
 * The estimate is deliberately simple and conservative, not a dictionary attack (no word list
 * ships with pipeseal): each character adds log2 of the pool of the character classes the
 * passphrase uses (lowercase 26, uppercase 26, digits 10, other ASCII 33, anything else 100),
 * except that a character repeating the previous one or continuing a run of consecutive code
 * points (`aaa`, `abc`, `321`) adds 1 bit, a passphrase that is one unit repeated (`abcabc`)
 * counts once, and a handful of the most common password words count 4 bits each.
 */
import { KeystoreError } from "../errors.js";

export const MIN_LENGTH = 12;
export const MIN_BITS = 50;

const COMMON = [
  "password",
  "passw0rd",
  "qwerty",
  "azerty",
  "letmein",
  "welcome",
  "admin",
  "iloveyou",
  "monkey",
  "dragon",
  "master",
  "secret",
  "summer",
  "winter",
  "spring",
  "autumn",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "shadow",
  "pipeseal",
  "abc123",
  "123456",
  "111111",
];

/** Estimated bits of guessing entropy (see the module comment for the model). */
export function estimatePassphraseBits(passphrase: string): number {
  let chars = [...passphrase.normalize("NFC")];
  chars = [...shortestUnit(chars.join(""))];
  const pool = poolOf(chars);
  const perChar = Math.log2(pool);
  let text = chars.join("").toLowerCase();
  let bits = 0;
  for (const word of COMMON) {
    while (text.includes(word)) {
      text = text.replace(word, "\u0000");
      bits += 4;
    }
  }
  const rest = [...text];
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === "\u0000") continue;
    const prev = i > 0 ? rest[i - 1] : undefined;
    const step = prev === undefined || prev === "\u0000" ? NaN : c.codePointAt(0)! - prev.codePointAt(0)!;
    bits += step === 0 || step === 1 || step === -1 ? 1 : perChar;
  }
  return bits;
}

/**
 * @throws KeystoreError(PASSPHRASE_WEAK) if `passphrase` is shorter than MIN_LENGTH characters
 *   or estimated below MIN_BITS. The message never contains the passphrase.
 */
export function checkNewPassphrase(passphrase: string): void {
  const length = [...passphrase.normalize("NFC")].length;
  const bits = Math.floor(estimatePassphraseBits(passphrase));
  if (length < MIN_LENGTH || bits < MIN_BITS) {
    throw new KeystoreError(
      "PASSPHRASE_WEAK",
      `the passphrase is too weak for a new keystore (${length} characters, about ${bits} bits estimated; at least ${MIN_LENGTH} characters and ${MIN_BITS} bits are needed): use four or more random words, or a long random string`,
    );
  }
}

function poolOf(chars: readonly string[]): number {
  let pool = 0;
  const has = (re: RegExp) => chars.some((c) => re.test(c));
  if (has(/[a-z]/)) pool += 26;
  if (has(/[A-Z]/)) pool += 26;
  if (has(/[0-9]/)) pool += 10;
  if (has(/[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/)) pool += 33;
  if (has(/[^\x20-\x7e]/)) pool += 100;
  return Math.max(pool, 2);
}

/** `abcabcabc` → `abc`: a passphrase that repeats one unit is only as strong as the unit. */
function shortestUnit(s: string): string {
  const cps = [...s];
  for (let n = 1; n <= cps.length / 2; n++) {
    if (cps.length % n !== 0) continue;
    const unit = cps.slice(0, n).join("");
    if (unit.repeat(cps.length / n) === s) return unit;
  }
  return s;
}
