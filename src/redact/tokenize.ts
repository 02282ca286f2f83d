/**
 * The `tokenize` redaction operator: a finding becomes a format-preserving FF1 token of the
 * same shape (NIST SP 800-38G Rev. 1, through `src/crypto/ff1-tokens.ts`, the construction
 * field policies' `tokenize` uses too), deterministic per key, so the same value gives the
 * same token and joins on redacted logs still work.
 *
 * - digits stay digits and every other character (separators, `+`, letters of an IBAN's
 *   country/bank code) stays where it is: cards keep their last 4 digits; phone numbers,
 *   SSNs, IBANs and any all-digit finding encipher all their digits;
 * - e-mail addresses keep the domain; the local part is enciphered over 0-9A-Za-z (separators
 *   such as `.`, `_`, `+` kept);
 * - any other finding enciphers its ASCII letters and digits over 0-9A-Za-z;
 * - a value whose enciphered part is below FF1's 10^6 domain (e.g. a 3-letter local part), or
 *   that holds letters outside the alphabet, falls back to `mask` (counted in the stats).
 *
 * The key is derived from a keystore key with `deriveFieldKey(keyName, "primary",
 * "redact-tokenize:" + detector, { operation: "redact-tokenize" })` (audited once per handle,
 * version and detector), and the FF1 tweak binds the detector id. Tokens carry no key version
 * and no marker: reversal is explicit (`revealToken`, audited as "redact-reveal") and needs the
 * version when the key was rotated since.
 *
 * Leaks, by design: equality (same value → same token under one key), shape, length, the kept
 * characters (card last 4, e-mail domain, separators, letters of an IBAN).
 */
import { Ff1 } from "../crypto/ff1.js";
import { UsageError } from "../errors.js";
import { tokenValue, type TokenSpec } from "../crypto/ff1-tokens.js";
import type { Keyring } from "../keys/keyring.js";

export interface TokenizeTarget {
  readonly keyring: Keyring;
  readonly keyName: string;
  /** Locator for the audit record (e.g. the input file). */
  readonly path?: string;
}

/** Short detector names accepted by the CLI and policies. */
export const DETECTOR_ALIASES: Readonly<Record<string, string>> = { card: "credit-card", ssn: "us-ssn", "e-mail": "email", ip: "ip-address" };

export function canonicalDetector(id: string): string {
  return DETECTOR_ALIASES[id] ?? id;
}

type Mode = { kind: "digits"; keepLast: number } | { kind: "email" } | { kind: "alnum" };

function modeFor(detector: string, value: string): Mode {
  if (detector === "credit-card") return { kind: "digits", keepLast: 4 };
  if (detector === "email") return { kind: "email" };
  if (detector === "phone" || detector === "us-ssn" || detector === "iban" || !/[A-Za-z]/.test(value)) return { kind: "digits", keepLast: 0 };
  return { kind: "alnum" };
}

export const tokenPurpose = (detector: string): string => `redact-tokenize:${detector}`;
const tweakFor = (detector: string): Buffer => Buffer.from(`pipeseal-redact-tokenize:${detector}`, "utf8");

/**
 * Enciphers (enc) or deciphers (!enc) one value. `ff1s` holds the radix-10 and radix-62 FF1
 * instances of one key. @throws FieldError when the value cannot be tokenized (too short,
 * letters outside the alphabet).
 */
export function tokenCore(ff1s: { digits: Ff1; alnum: Ff1 }, detector: string, value: string, enc: boolean): string {
  const mode = modeFor(detector, value);
  const tweak = tweakFor(detector);
  const where = { field: detector };
  if (mode.kind === "digits") {
    // only the digits are enciphered; everything else (letters included) stays in place
    const positions: number[] = [];
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 48 && c <= 57) positions.push(i);
    }
    const digits = positions.map((i) => value[i]).join("");
    const spec: TokenSpec = { alphabet: "digits", keepFirst: 0, keepLast: mode.keepLast };
    const out = tokenValue(ff1s.digits, spec, tweak, digits, enc, where) as string;
    const chars = [...value];
    positions.forEach((p, j) => (chars[p] = out[j]!));
    return chars.join("");
  }
  const spec: TokenSpec =
    mode.kind === "email" ? { alphabet: "alnum", keepFirst: 0, keepLast: 0, preserve: "email-domain" } : { alphabet: "alnum", keepFirst: 0, keepLast: 0 };
  return tokenValue(ff1s.alnum, spec, tweak, value, enc, where) as string;
}

function ff1Pair(key: Buffer): { digits: Ff1; alnum: Ff1 } {
  const aes = key.subarray(0, 32);
  const pair = { digits: new Ff1(aes, 10), alnum: new Ff1(aes, 62) };
  key.fill(0);
  return pair;
}

/** Per-redactor cache of FF1 instances, one derivation per detector. */
export class Tokenizer {
  readonly #ff1s = new Map<string, Promise<{ digits: Ff1; alnum: Ff1; version: number }>>();
  constructor(private readonly target: TokenizeTarget) {}

  /** The key version used (after the first token), for the stats. */
  version: number | undefined;

  async ff1s(detector: string): Promise<{ digits: Ff1; alnum: Ff1 }> {
    let p = this.#ff1s.get(detector);
    if (!p) {
      const object = { operation: "redact-tokenize", ...(this.target.path === undefined ? {} : { path: this.target.path }) };
      p = this.target.keyring
        .deriveFieldKey(this.target.keyName, "primary", tokenPurpose(detector), object)
        .then(({ key, version }) => ({ ...ff1Pair(key), version }));
      this.#ff1s.set(detector, p);
      p.catch(() => this.#ff1s.delete(detector));
    }
    const r = await p;
    this.version = r.version;
    return r;
  }
}

export interface RevealTokenRequest {
  readonly keyName: string;
  /** Key version the token was made under (default: the current primary). Tokens do not record it. */
  readonly version?: number | "primary";
  /** Detector id (or alias such as "card") the token was made for: part of the key and tweak. */
  readonly detector: string;
  readonly token: string;
  /** Locator for the audit record. */
  readonly path?: string;
}

/**
 * Reverses one token of the `tokenize` operator. Audited through `deriveFieldKey` (operation
 * "redact-reveal"; fail closed). A wrong key, version or detector gives a wrong value, not an
 * error: FF1 has no integrity check.
 * @throws KeyError / AuditError from the keyring; FieldError for a value that is not a token
 * (too short, foreign letters).
 */
export async function revealToken(keyring: Keyring, req: RevealTokenRequest): Promise<string> {
  if (typeof req.token !== "string" || req.token.length === 0) throw new UsageError("INVALID_ARGUMENT", "revealToken needs a token");
  const detector = canonicalDetector(req.detector);
  const object = { operation: "redact-reveal", ...(req.path === undefined ? {} : { path: req.path }) };
  const { key } = await keyring.deriveFieldKey(req.keyName, req.version ?? "primary", tokenPurpose(detector), object);
  return tokenCore(ff1Pair(key), detector, req.token, false);
}
