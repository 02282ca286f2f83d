/**
 * Typed errors with stable codes. Every error a user can cause is one of these;
 * `docs/errors.md` lists every code and a test keeps the two in sync.
 * A retired code is never reused.
 */

/** Stable error codes. Add new ones at the end of their group; never rename one. */
export const ERROR_CODES = {
  // authentication: one opaque code, no oracle detail
  DECRYPT_FAILED: "the data could not be authenticated: it is corrupt, truncated, tampered with, or sealed under another key or context",
  // sealed-file format
  NOT_SEALED: "the input is not a pipeseal sealed file (bad magic)",
  UNSUPPORTED_FORMAT: "the sealed file uses a format version or FLOE parameters this build does not support",
  MALFORMED_HEADER: "the sealed-file header is malformed",
  LIMIT_EXCEEDED: "a size or count limit of the format was exceeded",
  RANGE_OUT_OF_BOUNDS: "the requested byte range lies outside the plaintext",
  KEY_BLOCK_INVALID: "the sealed file's key block does not authenticate: a wrapped-key entry was added, removed, duplicated, reordered, altered or corrupted",
  // keys
  KEY_NOT_FOUND: "no key of that name exists in the keyring",
  KEY_EXISTS: "a key of that name already exists",
  KEY_VERSION_NOT_FOUND: "the key has no such version",
  KEY_DISABLED: "the key version is disabled",
  KEY_DESTROYED: "the key version was destroyed; data sealed under it can no longer be opened",
  KEY_BELOW_MIN_VERSION: "the key version is below the key's minimum decryption version",
  KEY_USAGE_LIMIT: "the key version reached its usage limit; rotate the key",
  KEY_STATE_CONFLICT: "the requested key state change is not allowed",
  KEYRING_MISMATCH: "the sealed file names a keyring that is not configured",
  // keystore and master key
  KEYSTORE_NOT_INITIALIZED: "no keystore was found; run `pipeseal init`",
  KEYSTORE_EXISTS: "a keystore already exists here",
  KEYSTORE_CORRUPT: "the keystore database is unreadable or inconsistent",
  MASTER_KEY_INSECURE: "the master key file is readable by group or others",
  MASTER_KEY_UNAVAILABLE: "the master key could not be loaded",
  MASTER_KEY_WRONG: "the master key or passphrase does not match this keystore",
  KEYSTORE_INSECURE: "the keystore folder or database can be written by group or others (or belongs to another user)",
  KEYSTORE_BUSY: "the keystore database is locked by another process",
  PASSPHRASE_WEAK: "the passphrase is too weak for a new keystore",
  // audit
  AUDIT_WRITE_FAILED: "the audit record could not be written, so the operation was refused (fail closed)",
  AUDIT_CHAIN_BROKEN: "the audit chain does not verify",
  AUDIT_ANCHOR_INVALID: "an audit anchor is malformed, altered, or signed by another keystore's anchor key",
  AUDIT_ROLLBACK: "the audit chain does not extend a signed anchor: the store was rolled back to an older copy, or its history was forked",
  // PKI and transit
  CA_NOT_INITIALIZED: "no certificate authority exists in this keystore; run `pipeseal ca init`",
  CA_EXISTS: "a certificate authority already exists in this keystore",
  CERT_NOT_FOUND: "no certificate with that serial or in that folder",
  CERT_MALFORMED: "a certificate, key, CSR or PEM file is malformed",
  CERT_REJECTED: "a peer certificate was rejected (expired, not yet valid, wrong CA, revoked, pinned key mismatch, or identity not allowed)",
  TLS_CONNECT_FAILED: "a TLS connection could not be established",
  CRL_INVALID: "a certificate revocation list cannot be used: not signed by a trusted CA, older than the one in use, or past its nextUpdate",
  // model artifacts
  SIGNATURE_INVALID: "a signature does not verify",
  SIGNER_UNTRUSTED: "the signer's key is not trusted for this model",
  ARTIFACT_MISMATCH: "the files do not match their signed manifest (changed, added, removed or renamed)",
  ARTIFACT_UNSIGNED: "the artifact has no signature",
  ARTIFACT_NOT_FOUND: "no such model version in the registry",
  ARTIFACT_EXISTS: "that model version already exists in the registry",
  // user input and I/O
  INVALID_ARGUMENT: "an argument is missing or malformed",
  IO_ERROR: "a file could not be read or written",
  LISTEN_FAILED: "a server could not listen on its address (in use by another process, not allowed, or not an address of this machine)",
  // key service
  UNAUTHENTICATED: "the key service could not authenticate the caller (no or foreign client certificate, bad or expired token)",
  ACCESS_DENIED: "the key service's policy denied the operation",
  NOT_FOUND: "the key service or data gateway has no such route, proposal or object",
  PAYLOAD_TOO_LARGE: "the request body is larger than the key service accepts",
  UNAVAILABLE: "the key service is down, unreachable or could not complete the request",
  // field-level protection
  FIELD_MALFORMED: "a protected field value is malformed (not a pipeseal field token, or damaged)",
  SUBJECT_NOT_FOUND: "no such data subject (or subject namespace) in this keystore, so nothing was erased",
  // posture
  MAP_INVALID: "the pipeline map (pipeline.yaml) is invalid",
  // differential privacy (src/privacy)
  PRIVACY_BUDGET_EXHAUSTED: "the query would spend more privacy budget than is left, so it was refused before any data was read",
  PRIVACY_BUDGET_NOT_FOUND: "no privacy budget of that name in this keystore",
  // data gateway
  GATEWAY_DENIED: "the data gateway's policy does not let this identity read this object",
  // secrets (src/secrets)
  SECRET_NOT_FOUND: "no secret of that name (or no such version) in the store",
  SECRET_DISABLED: "the secret version is disabled",
  SECRET_DESTROYED: "the secret version was destroyed; its value is gone",
  SECRET_STATE_CONFLICT: "the requested secret state change is not allowed",
  CHILD_FAILED: "the command given to `pipeseal run` could not be started",
  // monitor
  MONITOR_INPUT_INVALID: "an audit line given to the monitor is not a pipeseal.audit.v1 record",
  MONITOR_CONFIG_INVALID: "the monitor configuration (monitor.yaml) is invalid",
  MONITOR_STATE_INVALID: "the monitor state file does not belong to this configuration or is damaged",
  // secure aggregation (src/secagg)
  SECAGG_ABORTED: "the secure-aggregation round was aborted: fewer than the threshold of parties remained",
  SECAGG_PROTOCOL: "a secure-aggregation message broke the protocol (bad signature, another round's message, unknown party, wrong step, malformed)",
  SECAGG_UNSAFE_REQUEST: "the aggregator asked a party for shares that would reveal a peer's input, and the party refused",
  SECAGG_PENDING: "the secure-aggregation round has not finished yet",
  MONITOR_QUEUE_FULL: "a monitor sink is not taking alerts and its queue is full; the monitor raised this as an alert and stopped",
  MONITOR_ALERT_NOT_FOUND: "no alert with that id in this keystore",
  MONITOR_LOCKED: "another monitor is running on the same state file",
  MONITOR_SINK_FAILED: "a monitor sink kept failing, so `monitor run --once` ended with alerts still owed to it",
  // crypto engine (src/engine)
  ENGINE_FAILED: "the native crypto engine (the system's OpenSSL) refused an operation or ran out of memory",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of every pipeseal error. `code` is stable; `message` is for humans and never holds key material or plaintext. */
export class PipesealError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CODES[code], options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Authentication failed. Deliberately opaque: one code, one message, whatever the cause. */
export class DecryptError extends PipesealError {
  constructor() {
    super("DECRYPT_FAILED");
  }
}

/** The sealed-file structure is wrong (before any cryptography is tried). */
export class FormatError extends PipesealError {}

/** A key, key version or keyring problem. */
export class KeyError extends PipesealError {}

/** The keystore or its master key. */
export class KeystoreError extends PipesealError {}

/** Audit could not be written or does not verify. */
export class AuditError extends PipesealError {}

/** A user-supplied argument or file is wrong. */
export class UsageError extends PipesealError {}

export function isPipesealError(e: unknown): e is PipesealError {
  return e instanceof PipesealError;
}
