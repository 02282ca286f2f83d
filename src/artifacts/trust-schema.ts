/** The declared shape of a trust file (docs/artifacts.md), read by the strict reader (io/yaml-schema.ts). */

/** A trust file as read: model name (or "*") → PEM public keys or paths to them. */
export interface TrustFile {
  readonly models: Readonly<Record<string, readonly string[]>>;
}

export const TRUST_FILE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["models"],
  properties: {
    models: {
      type: "object",
      description: "model name (the signature's subject), or * for every model, to the signer public keys accepted for it",
      additionalProperties: {
        type: "array",
        items: { type: "string", minLength: 1, description: "a PEM public key, or the path of one relative to the trust file" },
      },
    },
  },
} as const;
