/**
 * Redaction policy files (JSON; YAML is read too), checked against policy-schema.ts:
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
import { schemaChecker, yamlReader } from "../io/yaml-schema.js";
import type { AllowList } from "./allow-list.js";
import type { CustomDetectorConfig } from "./custom.js";
import { assertSafePattern } from "./custom.js";
import type { Operator } from "./operators.js";
import { REDACT_POLICY_SCHEMA } from "./policy-schema.js";
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

const fileError = (message: string) => new UsageError("INVALID_ARGUMENT", message);
const readPolicyFile = yamlReader<RedactPolicy>(REDACT_POLICY_SCHEMA, fileError);
const checkPolicy = schemaChecker<RedactPolicy>(REDACT_POLICY_SCHEMA, (m) => fileError(`redaction policy: ${m}`));

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
  checkPolicy(policy);
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
 * Loads a policy file: JSON (or YAML, of which JSON is a part), checked against policy-schema.ts.
 * @throws UsageError(INVALID_ARGUMENT) `file:LINE:COL: path: what` for bad syntax or fields.
 */
export function loadRedactPolicy(file: string): { options: RedactOptions; encryptKey?: string; tokenizeKey?: string } {
  const doc = readPolicyFile(readFileSync(file, "utf8"), file);
  // an allow pattern is a regular expression the schema cannot judge: refused at its own place
  for (const [i, p] of (doc.data.allow?.patterns ?? []).entries()) {
    try {
      assertSafePattern(p);
    } catch (e) {
      doc.fail(["allow", "patterns", i], (e as Error).message.replace(/^pattern /, ""));
    }
  }
  return policyToOptions(doc.data, path.dirname(path.resolve(file)));
}
