/** The declared shape of keyservice.yaml (docs/keyservice.md), read by the strict reader (io/yaml-schema.ts). */

const PATH = { type: "string", minLength: 1 } as const;
const DURATION = { type: "string", pattern: "^\\d+[smhdw]$", hint: "must be a duration such as 15m or 1h" } as const;

/** keyservice.yaml as read; defaults and paths are the reader's. */
export interface ServiceFile {
  readonly listen?: { readonly host?: string; readonly port?: number };
  readonly certDir: string;
  readonly allow: readonly string[];
  readonly keyringId?: string;
  readonly store?:
    | { readonly kind?: "sqlite"; readonly home?: string }
    | { readonly kind: "postgres"; readonly url: string; readonly home?: string; readonly create?: boolean };
  readonly policy?: string;
  readonly tokenTtl?: string | number;
  readonly tokensWithoutCertificate?: boolean;
  readonly root?: { readonly pkcs11: Pkcs11File };
  readonly tls?: { readonly crl?: string; readonly crlExpired?: "refuse" | "warn" };
  readonly audit?: { readonly anchorEvery: string; readonly anchorDir: string };
}

export interface Pkcs11File {
  readonly module?: string;
  readonly token?: string;
  readonly slot?: number;
  readonly keyLabel?: string;
  readonly pinFile?: string;
  readonly pinEnv?: string;
  readonly pin?: string;
  readonly allowInlinePin?: boolean;
  readonly create?: boolean;
}

const SQLITE_STORE = {
  type: "object",
  additionalProperties: false,
  properties: { kind: { const: "sqlite" }, home: { ...PATH, description: "the keystore folder (default .pipeseal)" } },
} as const;

const POSTGRES_STORE = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "url"],
  properties: {
    kind: { const: "postgres" },
    url: { type: "string", pattern: "^postgres(ql)?://", hint: "must be a postgres:// URL" },
    home: { ...PATH, description: "the folder holding master.key (or use root.pkcs11)" },
    create: { type: "boolean", description: "create the schema on first start" },
  },
} as const;

export const SERVICE_CONFIG_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["certDir", "allow"],
  properties: {
    listen: {
      type: "object",
      additionalProperties: false,
      properties: { host: { type: "string", minLength: 1 }, port: { type: "integer", minimum: 0, maximum: 65535 } },
    },
    certDir: { ...PATH, description: "cert.pem, key.pem and ca.pem from `pipeseal ca issue`" },
    allow: { type: "array", minItems: 1, items: { type: "string", minLength: 1 }, description: "SPIFFE ID patterns let through the TLS gate" },
    keyringId: {
      type: "string",
      pattern: "^[A-Za-z0-9:._-]{1,128}$",
      not: { const: "local" },
      hint: 'must be 1-128 characters of A-Z a-z 0-9 : . _ - and not "local"',
    },
    store: {
      type: "object",
      description: "{ kind: sqlite, home } (the default) or { kind: postgres, url, home, create }",
      if: { properties: { kind: { const: "postgres" } }, required: ["kind"] },
      then: POSTGRES_STORE,
      else: SQLITE_STORE,
    },
    policy: { ...PATH, description: "the bootstrap policy file" },
    tokenTtl: { anyOf: [{ type: "integer" }, { type: "string", pattern: "^\\d+(s|m)$" }], hint: "must be like 900s or 15m" },
    tokensWithoutCertificate: { type: "boolean" },
    root: {
      type: "object",
      additionalProperties: false,
      required: ["pkcs11"],
      properties: {
        pkcs11: {
          type: "object",
          additionalProperties: false,
          properties: {
            module: PATH,
            token: { type: "string", minLength: 1 },
            slot: { type: "integer", minimum: 0, description: "a slot ID" },
            keyLabel: { type: "string", minLength: 1 },
            pinFile: { ...PATH, description: "a file (mode 0600) holding the PIN" },
            pinEnv: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$", hint: "must be an environment variable name" },
            pin: { type: "string", minLength: 1 },
            allowInlinePin: { type: "boolean" },
            create: { type: "boolean" },
          },
        },
      },
    },
    tls: {
      type: "object",
      additionalProperties: false,
      properties: {
        crl: { ...PATH, description: "written by `pipeseal ca crl -o <file>`" },
        crlExpired: { enum: ["refuse", "warn"] },
      },
    },
    audit: {
      type: "object",
      additionalProperties: false,
      required: ["anchorEvery", "anchorDir"],
      properties: {
        anchorEvery: DURATION,
        anchorDir: { ...PATH, description: "the folder the signed anchors are written to" },
      },
    },
  },
} as const;
