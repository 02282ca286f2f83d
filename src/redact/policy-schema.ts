/** The declared shape of a redaction policy file (docs/redact.md), for the strict reader and for policies built in code. */
import { OPERATORS } from "./operators.js";

const NAMES = { type: "array", items: { type: "string", minLength: 1 } } as const;
const KEY_FILE = { type: "string", minLength: 1, description: "32+ random bytes, raw or hex; relative to the policy" } as const;
const KEY_NAME = { type: "string", minLength: 1, description: "a keystore key name" } as const;

export const REDACT_POLICY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    minConfidence: { type: "number", minimum: 0, maximum: 1 },
    disable: { ...NAMES, description: "detector ids to switch off" },
    encodings: { type: "boolean" },
    json: { type: "boolean" },
    operators: {
      type: "object",
      description: "detector id (or default) to the operator applied to its findings",
      additionalProperties: { enum: OPERATORS },
    },
    hashKeyFile: KEY_FILE,
    hashLength: { type: "integer", minimum: 4, maximum: 64 },
    encryptKey: KEY_NAME,
    tokenizeKey: KEY_NAME,
    detectors: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["id", "label", "pattern"],
        properties: {
          id: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,63}$", hint: "must be lowercase letters, digits and dashes" },
          label: { type: "string", pattern: "^[A-Z0-9_]{1,32}$", hint: "must be 1-32 of A-Z, 0-9, _" },
          kind: { enum: ["pii", "secret"] },
          pattern: { type: "string", minLength: 1, maxLength: 2000 },
          flags: { type: "string", pattern: "^[imsu]*$", hint: "may only be i, m, s, u" },
          validator: { enum: ["luhn", "mod97", "entropy"] },
          minEntropy: { type: "number", minimum: 0 },
          context: NAMES,
          contextWindow: { type: "integer", minimum: 1 },
          confidence: { type: "number", minimum: 0, maximum: 1 },
        },
      },
    },
    allow: {
      type: "object",
      additionalProperties: false,
      properties: {
        patterns: { ...NAMES, description: "regular expressions; a finding whose text matches one is kept" },
        hashes: { ...NAMES, description: "keyed hashes of values to keep (pipeseal redact allow-hash)" },
        keyFile: KEY_FILE,
        detectors: { ...NAMES, description: "the detectors the allow list applies to (default all)" },
      },
    },
  },
} as const;
