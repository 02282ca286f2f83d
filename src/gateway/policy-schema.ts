/** The declared shape of gateway.yaml (docs/gateway.md), read by the strict reader (io/yaml-schema.ts). */

/** gateway.yaml as read: each list may be one string. */
export interface GatewayFile {
  readonly rules: readonly {
    readonly identities: string | readonly string[];
    readonly paths: string | readonly string[];
    readonly context?: Readonly<Record<string, string | readonly string[]>>;
    readonly description?: string;
  }[];
}

const STRINGS = {
  hint: "must be a non-empty string or a non-empty list of them",
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
  ],
};

export const GATEWAY_POLICY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["rules"],
  properties: {
    rules: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["identities", "paths"],
        properties: {
          identities: { ...STRINGS, description: "SPIFFE ID patterns of the callers the rule admits" },
          paths: { ...STRINGS, description: "globs over plaintext paths relative to the root" },
          context: {
            type: "object",
            description: "each key must be present in the object's encryption context with one of the values",
            propertyNames: { pattern: "^[A-Za-z0-9_.:-]{1,64}$", hint: "a context key is 1-64 letters, digits, '_', '.', ':' or '-'" },
            additionalProperties: STRINGS,
          },
          description: { type: "string" },
        },
      },
    },
  },
} as const;
