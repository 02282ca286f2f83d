/**
 * The API's JSON schemas, written once as data: fastify validates request bodies and query
 * strings with them (unknown fields refused, no type coercion) and `openapi.ts` publishes
 * the same objects in the OpenAPI 3.1 document at /v1/openapi.json.
 */

/** Largest plaintext for /v1/encrypt (bytes). Bigger data belongs in a sealed file. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Most items in one batch request. */
export const MAX_BATCH = 100;
/** Largest request body (bytes). */
export const BODY_LIMIT = 1024 * 1024;

const b64 = (maxBytes: number, description: string) => ({
  type: "string",
  pattern: "^[A-Za-z0-9+/]*={0,2}$",
  maxLength: Math.ceil(maxBytes / 3) * 4,
  description: `${description} (base64)`,
});

export const S = {
  keyName: { type: "string", pattern: "^[a-z0-9][a-z0-9._/-]{0,127}$", description: "key name" },
  version: { type: "integer", minimum: 1, maximum: 4294967295 },
  context: {
    type: "object",
    maxProperties: 64,
    propertyNames: { pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
    additionalProperties: { type: "string", maxLength: 1024 },
    description: "encryption context, bound as associated data",
  },
  object: {
    type: "object",
    additionalProperties: false,
    properties: {
      operation: { type: "string", pattern: "^[a-z][a-z0-9-]{0,31}$" },
      path: { type: "string", maxLength: 1024 },
      headerHash: { type: "string", pattern: "^[0-9a-f]{64}$" },
    },
    description: "what the data key is for (recorded in the audit)",
  },
  hash32: { type: "string", pattern: "^[0-9a-f]{64}$", description: "32 bytes, lowercase hex" },
  keyringLabel: {
    type: "string",
    pattern: "^[A-Za-z0-9:._\\-\\[\\]]{1,64}$",
    description: "the keyring id a sealed file names for the service's entries (the client's `ks:<host>`)",
  },
  binding: {
    type: "object",
    additionalProperties: false,
    required: ["objectId", "index", "digests", "tags"],
    properties: {
      objectId: { $ref: "#/components/schemas/hash32" },
      index: { type: "integer", minimum: 0, maximum: 7 },
      digests: { type: "array", minItems: 1, maxItems: 8, items: { $ref: "#/components/schemas/hash32" } },
      tags: { type: "array", minItems: 1, maxItems: 8, items: { $ref: "#/components/schemas/hash32" } },
      keyringLabel: { $ref: "#/components/schemas/keyringLabel" },
    },
    description: "sealed file v2 (docs/format.md §6): the entry's file and key block; checked before the key is released",
  },
  upgrade: {
    type: "object",
    additionalProperties: false,
    required: ["objectId", "index", "count"],
    properties: {
      objectId: { $ref: "#/components/schemas/hash32" },
      index: { type: "integer", minimum: 0, maximum: 7 },
      count: { type: "integer", minimum: 1, maximum: 8 },
      keyringLabel: { $ref: "#/components/schemas/keyringLabel" },
    },
    description: "rewrap --upgrade: the v2 file and position the new entry is for",
  },
  wrappedKey: {
    type: "object",
    additionalProperties: false,
    required: ["keyName", "keyVersion", "wrapped"],
    properties: {
      keyName: { $ref: "#/components/schemas/keyName" },
      keyVersion: { $ref: "#/components/schemas/version" },
      wrapped: b64(256, "the service's opaque wrap of the data key"),
      tag: { $ref: "#/components/schemas/hash32" },
      binding: { $ref: "#/components/schemas/binding" },
    },
  },
  error: {
    type: "object",
    required: ["error"],
    properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } },
  },
} as const;

/** Replaces `#/components/schemas/x` refs by the schema itself (fastify validates without a shared registry). */
export function inline(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(inline);
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/schemas/")) return inline(S[ref.slice(21) as keyof typeof S]);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
}

const ref = (name: keyof typeof S) => ({ $ref: `#/components/schemas/${name}` });
const body = (required: string[], properties: Record<string, unknown>) => ({ type: "object", additionalProperties: false, required, properties });
const nameOnly = body(["name"], { name: ref("keyName") });
const nameVersion = body(["name", "version"], { name: ref("keyName"), version: ref("version") });
const secretName = {
  type: "string",
  pattern: "^[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63}){0,3}$",
  maxLength: 128,
  description: "secret name: namespace/name",
};
const spiffeId = { type: "string", pattern: "^spiffe://[^/]+/[^/]+/[^/]+$", maxLength: 1024, description: "SPIFFE ID" };
const bearerToken = { type: "string", pattern: "^[A-Za-z0-9._-]{1,4096}$", description: "a bearer token from POST /v1/tokens" };
const unwrapItem = body(["wrappedKey"], {
  wrappedKey: ref("wrappedKey"),
  context: ref("context"),
  object: ref("object"),
  onBehalfOf: {
    ...spiffeId,
    description: "a delegate's request (the data gateway): the identity it acts for; the policy's delegates must allow it (docs/keyservice.md)",
  },
  onBehalfToken: { ...bearerToken, description: "the bearer token that identity presented to the delegate; verified, and its operations narrow the request" },
});
const encryptItem = body(["keyName", "plaintext"], { keyName: ref("keyName"), plaintext: b64(MAX_PAYLOAD_BYTES, "payload"), context: ref("context") });
const decryptItem = body(["ciphertext"], { ciphertext: b64(MAX_PAYLOAD_BYTES + 512, "ciphertext from /v1/encrypt"), context: ref("context") });
const failedUse = body(["wrappedKey", "object", "errorCode"], {
  wrappedKey: ref("wrappedKey"),
  context: ref("context"),
  object: ref("object"),
  errorCode: { type: "string", pattern: "^[A-Z][A-Z0-9_]{0,63}$" },
});
const signAlg = { type: "string", enum: ["ed25519", "ecdsa-p256"] };

/** One API operation: method, path, the permission the policy checks, schemas and a summary. */
export interface Route {
  readonly method: "GET" | "POST";
  readonly path: string;
  /** The policy operation the route is authorized as (a grantable name, checked against the decision record by test/server/api-openapi.test.ts); null for routes that need no permission beyond mTLS. */
  readonly op: string | null;
  readonly summary: string;
  readonly body?: unknown;
  readonly query?: unknown;
}

export const ROUTES = {
  info: { method: "GET", path: "/v1/info", op: null, summary: "service identity and keyring id" },
  createKey: {
    method: "POST",
    path: "/v1/keys/create",
    op: "key.create",
    summary: "create a key (version 1 primary)",
    body: body(["name"], { name: ref("keyName"), rotateEverySeconds: { type: "integer", minimum: 1, maximum: 3153600000 } }),
  },
  rotateKey: { method: "POST", path: "/v1/keys/rotate", op: "key.rotate", summary: "add a new primary version", body: nameOnly },
  listKeys: { method: "GET", path: "/v1/keys", op: "key.list", summary: "list keys and versions" },
  showKey: { method: "POST", path: "/v1/keys/show", op: "key.show", summary: "one key in detail", body: nameOnly },
  disableVersion: { method: "POST", path: "/v1/keys/disable", op: "key.disable", summary: "disable a version", body: nameVersion },
  enableVersion: { method: "POST", path: "/v1/keys/enable", op: "key.enable", summary: "re-enable a version", body: nameVersion },
  destroyVersion: { method: "POST", path: "/v1/keys/destroy", op: "key.destroy", summary: "crypto-shred a non-primary version", body: nameVersion },
  setMinVersion: { method: "POST", path: "/v1/keys/min-version", op: "key.set-min-version", summary: "set the minimum decryption version", body: nameVersion },
  wrap: {
    method: "POST",
    path: "/v1/wrap",
    op: "datakey.generate",
    summary: "wrap a caller-made data key under the primary version",
    body: body(["keyName", "dataKey"], { keyName: ref("keyName"), dataKey: b64(32, "32-byte data key"), context: ref("context"), objectId: ref("hash32") }),
  },
  generateWrapped: {
    method: "POST",
    path: "/v1/datakeys/generate-wrapped",
    op: "datakey.generate",
    summary: "a fresh data key, wrapped only (no plaintext)",
    body: body(["keyName"], { keyName: ref("keyName"), context: ref("context") }),
  },
  generate: {
    method: "POST",
    path: "/v1/datakeys/generate",
    op: "datakey.generate-plaintext",
    summary: "a fresh data key, wrapped and in plaintext",
    body: body(["keyName"], { keyName: ref("keyName"), context: ref("context") }),
  },
  unwrap: { method: "POST", path: "/v1/unwrap", op: "unwrap", summary: "unwrap a data key (audited before it is returned)", body: unwrapItem },
  unwrapBatch: {
    method: "POST",
    path: "/v1/unwrap/batch",
    op: "unwrap",
    summary: "unwrap several data keys",
    body: body(["items"], { items: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: unwrapItem } }),
  },
  unwrapFailed: {
    method: "POST",
    path: "/v1/unwrap/failed",
    op: "unwrap",
    summary: "record that the operation an unwrap released a key for then failed on the client (with its error code), as the caller's own record",
    body: failedUse,
  },
  rewrapFailed: {
    method: "POST",
    path: "/v1/rewrap/failed",
    op: "rewrap",
    summary: "record that a rewrapped entry never reached its file (with the error code), as the caller's own record",
    body: failedUse,
  },
  rewrap: {
    method: "POST",
    path: "/v1/rewrap",
    op: "rewrap",
    summary: "move a wrapped key to the primary version; never returns plaintext",
    body: body(["wrappedKey"], { wrappedKey: ref("wrappedKey"), context: ref("context"), upgrade: ref("upgrade") }),
  },
  encrypt: { method: "POST", path: "/v1/encrypt", op: "encrypt", summary: "AES-256-GCM under a fresh data key wrapped by the named key", body: encryptItem },
  decrypt: { method: "POST", path: "/v1/decrypt", op: "decrypt", summary: "open a /v1/encrypt ciphertext", body: decryptItem },
  encryptBatch: {
    method: "POST",
    path: "/v1/encrypt/batch",
    op: "encrypt",
    summary: "encrypt several payloads",
    body: body(["items"], { items: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: encryptItem } }),
  },
  decryptBatch: {
    method: "POST",
    path: "/v1/decrypt/batch",
    op: "decrypt",
    summary: "decrypt several payloads",
    body: body(["items"], { items: { type: "array", minItems: 1, maxItems: MAX_BATCH, items: decryptItem } }),
  },
  hmac: {
    method: "POST",
    path: "/v1/hmac",
    op: "hmac",
    summary: "HMAC-SHA-256 under a key derived from the named key's version",
    body: body(["keyName", "data"], { keyName: ref("keyName"), keyVersion: ref("version"), data: b64(MAX_PAYLOAD_BYTES, "data") }),
  },
  hmacVerify: {
    method: "POST",
    path: "/v1/hmac/verify",
    op: "hmac",
    summary: "check an HMAC in constant time",
    body: body(["keyName", "keyVersion", "data", "mac"], {
      keyName: ref("keyName"),
      keyVersion: ref("version"),
      data: b64(MAX_PAYLOAD_BYTES, "data"),
      mac: b64(32, "mac"),
    }),
  },
  sign: {
    method: "POST",
    path: "/v1/sign",
    op: "sign",
    summary: "sign with a key pair derived from the named key's primary version",
    body: body(["keyName", "algorithm", "message"], { keyName: ref("keyName"), algorithm: signAlg, message: b64(MAX_PAYLOAD_BYTES, "message") }),
  },
  verify: {
    method: "POST",
    path: "/v1/verify",
    op: "verify",
    summary: "verify a signature",
    body: body(["keyName", "keyVersion", "algorithm", "message", "signature"], {
      keyName: ref("keyName"),
      keyVersion: ref("version"),
      algorithm: signAlg,
      message: b64(MAX_PAYLOAD_BYTES, "message"),
      signature: b64(128, "signature"),
    }),
  },
  publicKey: {
    method: "POST",
    path: "/v1/sign/public-key",
    op: "verify",
    summary: "the public key (SPKI PEM) of a signing key version",
    body: body(["keyName", "keyVersion", "algorithm"], { keyName: ref("keyName"), keyVersion: ref("version"), algorithm: signAlg }),
  },
  mintToken: {
    method: "POST",
    path: "/v1/tokens",
    op: "token.mint",
    summary: "a short-lived bearer token bound to the caller's identity",
    body: body([], {
      ttlSeconds: { type: "integer", minimum: 1, maximum: 900 },
      operations: { type: "array", maxItems: 32, items: { type: "string", pattern: "^[a-z][a-z.-]{0,31}$" } },
    }),
  },
  proposePolicy: {
    method: "POST",
    path: "/v1/policy/proposals",
    op: "policy.propose",
    summary: "propose a policy (YAML); takes effect once a second admin approves",
    body: body(["policy"], { policy: { type: "string", minLength: 1, maxLength: 256 * 1024 } }),
  },
  approvePolicy: {
    method: "POST",
    path: "/v1/policy/approve",
    op: "policy.approve",
    summary: "approve a proposal (a different admin than the proposer)",
    body: body(["id"], { id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } }),
  },
  showPolicy: { method: "GET", path: "/v1/policy", op: "policy.propose", summary: "the active policy and open proposals" },
  listAudit: {
    method: "GET",
    path: "/v1/audit",
    op: "audit.read",
    summary: "audit records, oldest first",
    query: {
      type: "object",
      additionalProperties: false,
      properties: { limit: { type: "string", pattern: "^[0-9]{1,6}$" }, since: { type: "string", pattern: "^[0-9]{1,15}$" } },
    },
  },
  verifyAudit: { method: "GET", path: "/v1/audit/verify", op: "audit.read", summary: "verify the audit hash chain" },
  auditAnchor: {
    method: "GET",
    path: "/v1/audit/anchor",
    op: "audit.read",
    summary: "a signed anchor of the audit chain head (docs/audit.md), and the anchor public key",
  },
  verifyAuditAnchors: {
    method: "POST",
    path: "/v1/audit/verify-anchors",
    op: "audit.read",
    summary: "verify the audit chain and that it extends each anchor given (no rollback, no fork)",
    body: body(["anchors"], { anchors: { type: "array", minItems: 1, maxItems: 64, items: { type: "string", minLength: 1, maxLength: 16384 } } }),
  },
  listSecrets: {
    method: "GET",
    path: "/v1/secrets",
    op: "secret.list",
    summary: "secrets of the namespaces the caller may read or write: versions, states, last read (never values)",
  },
  showSecret: { method: "POST", path: "/v1/secrets/show", op: "secret.list", summary: "one secret's metadata", body: body(["name"], { name: secretName }) },
  setSecret: {
    method: "POST",
    path: "/v1/secrets/set",
    op: "secret.write",
    summary: "store a value as a new primary version (mode rotate: only of an existing secret)",
    body: body(["name", "value"], { name: secretName, value: b64(64 * 1024, "the secret value"), mode: { type: "string", enum: ["set", "rotate"] } }),
  },
  readSecret: {
    method: "POST",
    path: "/v1/secrets/read",
    op: "secret.read",
    summary: "a secret's value (audited with what the read is for); never allowed to a key administrator",
    body: body(["name", "for"], {
      name: secretName,
      version: ref("version"),
      for: { type: "string", minLength: 1, maxLength: 200, description: "what the read is for, e.g. `run: python3 train.py` (recorded)" },
      pid: {
        type: "integer",
        minimum: 1,
        maximum: 4194304,
        description: "the reading process's id on the caller's host, recorded as a local read records it (the caller's word: the service cannot check it)",
      },
    }),
  },
  changeSecret: {
    method: "POST",
    path: "/v1/secrets/state",
    op: "secret.write",
    summary: "disable, enable or destroy (crypto-shred) a version; destroy with all: every version",
    body: body(["name", "change"], {
      name: secretName,
      change: { type: "string", enum: ["disable", "enable", "destroy"] },
      version: ref("version"),
      all: { type: "boolean" },
    }),
  },
  verifyToken: {
    method: "POST",
    path: "/v1/tokens/verify",
    op: "token.verify",
    summary: "a delegate checks a bearer token one of its peers presented (the identity, expiry and operations)",
    body: body(["token"], { token: bearerToken }),
  },
  appendRecords: {
    method: "POST",
    path: "/v1/audit/records",
    op: "audit.append",
    summary: "a delegate records what it refused or served for its peers",
    body: body(["records"], {
      records: {
        type: "array",
        minItems: 1,
        maxItems: MAX_BATCH,
        items: body(["operation", "outcome"], {
          operation: { type: "string", enum: ["gateway.deny", "gateway.serve", "gateway.reject"] },
          outcome: { type: "string", enum: ["ok", "denied", "error"] },
          onBehalfOf: spiffeId,
          errorCode: { type: "string", pattern: "^[A-Z][A-Z0-9_]{0,63}$" },
          keyName: ref("keyName"),
          keyVersion: ref("version"),
          objectPath: { type: "string", maxLength: 4096 },
          headerHash: { type: "string", pattern: "^[0-9a-f]{64}$" },
          context: ref("context"),
        }),
      },
    }),
  },
} as const satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;
