/**
 * Redaction policy files (JSON; YAML would need a dependency we do not take):
 *
 * {
 *   "minConfidence": 0.5,
 *   "disable": ["ip-address"],
 *   "operators": { "default": "redact", "email": "hash", "credit-card": "mask", "us-ssn": "encrypt" },
 *   "hashKeyFile": "redact-hash.key",        // 32+ random bytes, raw or hex; relative to the policy
 *   "hashLength": 8,
 *   "encryptKey": "logs/pii",                // keystore key for the encrypt operator
 *   "tokenizeKey": "logs/tokens",            // keystore key for the tokenize operator
 *   "detectors": [{ "id": "employee-id", "label": "EMPLOYEE_ID", "pattern": "\\bEMP-\\d{6}\\b", "context": ["employee"] }],
 *   "allow": { "patterns": ["@example\\.com$"], "hashes": ["…"], "keyFile": "allow.key" }
 * }
 *
 * The hash key is a plain secret file rather than a keystore key because the keystore never
 * releases KEK bytes (by design) and a pseudonym key must be stable and shareable between the
 * jobs whose logs are joined; keep it 0600 next to the keystore. `openssl rand 32 > redact-hash.key`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import type { AllowList } from "./allow-list.js";
import type { CustomDetectorConfig } from "./custom.js";
import { assertSafePattern } from "./custom.js";
import type { Operator } from "./operators.js";
import type { RedactOptions } from "./redactor.js";

export interface RedactPolicy {
  readonly minConfidence?: number;
  readonly disable?: readonly string[];
  readonly encodings?: boolean;
  readonly json?: boolean;
  readonly operators?: Readonly<Record<string, Operator>>;
  readonly hashKeyFile?: string;
  readonly hashLength?: number;
  readonly encryptKey?: string;
  readonly tokenizeKey?: string;
  readonly detectors?: readonly CustomDetectorConfig[];
  readonly allow?: {
    readonly patterns?: readonly string[];
    readonly hashes?: readonly string[];
    readonly keyFile?: string;
    readonly detectors?: readonly string[];
  };
}

const KNOWN = new Set([
  "minConfidence",
  "disable",
  "encodings",
  "json",
  "operators",
  "hashKeyFile",
  "hashLength",
  "encryptKey",
  "tokenizeKey",
  "detectors",
  "allow",
]);

/** Reads a key file: raw bytes, or hex text (whitespace ignored). At least 32 bytes. */
export function readKeyFile(file: string): Uint8Array {
  const raw = readFileSync(file);
  const text = raw.toString("latin1").trim();
  const key = /^(?:[0-9a-fA-F]{2}){32,}$/.test(text) ? Buffer.from(text, "hex") : raw;
  if (key.length < 32) throw new UsageError("INVALID_ARGUMENT", `${file}: a key file needs at least 32 bytes`);
  return key;
}

/** Turns a parsed policy into redactor options; relative key files resolve against `baseDir`. */
export function policyToOptions(policy: RedactPolicy, baseDir = "."): { options: RedactOptions; encryptKey?: string; tokenizeKey?: string } {
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) throw new UsageError("INVALID_ARGUMENT", "a redaction policy is a JSON object");
  for (const k of Object.keys(policy)) if (!KNOWN.has(k)) throw new UsageError("INVALID_ARGUMENT", `unknown policy field "${k}"`);
  let allow: AllowList | undefined;
  if (policy.allow) {
    const patterns = (policy.allow.patterns ?? []).map((p, i) => {
      assertSafePattern(p, `allow.patterns[${i}]`);
      return new RegExp(p);
    });
    const key = policy.allow.keyFile ? readKeyFile(path.resolve(baseDir, policy.allow.keyFile)) : undefined;
    allow = { patterns, hashes: policy.allow.hashes ?? [], ...(key ? { key } : {}), ...(policy.allow.detectors ? { detectors: policy.allow.detectors } : {}) };
  }
  const options: RedactOptions = {
    ...(policy.minConfidence !== undefined ? { minConfidence: policy.minConfidence } : {}),
    ...(policy.disable ? { disable: policy.disable } : {}),
    ...(policy.encodings !== undefined ? { encodings: policy.encodings } : {}),
    ...(policy.json !== undefined ? { json: policy.json } : {}),
    ...(policy.operators ? { operators: policy.operators } : {}),
    ...(policy.hashKeyFile ? { hashKey: readKeyFile(path.resolve(baseDir, policy.hashKeyFile)) } : {}),
    ...(policy.hashLength !== undefined ? { hashLength: policy.hashLength } : {}),
    ...(policy.detectors ? { customDetectors: policy.detectors } : {}),
    ...(allow ? { allow } : {}),
  };
  return { options, ...(policy.encryptKey ? { encryptKey: policy.encryptKey } : {}), ...(policy.tokenizeKey ? { tokenizeKey: policy.tokenizeKey } : {}) };
}

/**
 * Loads a JSON policy file.
 * @throws UsageError(INVALID_ARGUMENT) for bad JSON or fields.
 */
export function loadRedactPolicy(file: string): { options: RedactOptions; encryptKey?: string; tokenizeKey?: string } {
  let parsed: RedactPolicy;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as RedactPolicy;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw e;
    throw new UsageError("INVALID_ARGUMENT", `${file}: not valid JSON (${(e as Error).message})`);
  }
  return policyToOptions(parsed, path.dirname(path.resolve(file)));
}
