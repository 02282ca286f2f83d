/**
 * The error registry: one row per stable code — its message, the error class it is thrown as,
 * its HTTP status on the wire, its CLI exit status and what an audit record of the refusal
 * says — from which `ERROR_CODES`, the key service's status table (server/errors.ts), the
 * CLI's exit statuses (cli/exit-codes.ts) and the audit outcome of a failure
 * (`auditOutcomeOf`) are all derived, so no second table can drift (fastify's lib/errors.js).
 * Pure data: no imports, so every layer may read it. `docs/errors.md` has one line per row;
 * a test keeps the two in sync. A retired code is never reused.
 */

/** Process exit statuses by error family (docs/errors.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, key: 4, audit: 5, format: 6, denied: 7, findings: 8 } as const;
export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

/** The error classes a code can be registered with (src/errors.ts defines them). */
export type ErrorClassName =
  | "DecryptError"
  | "FormatError"
  | "KeyError"
  | "KeystoreError"
  | "AuditError"
  | "UsageError"
  | "EnvironmentError"
  | "ServiceError"
  | "FieldError"
  | "ArtifactError"
  | "PrivacyError"
  | "MonitorError"
  | "SecaggError";

/**
 * How an audit record of an operation that failed with this code reads: `denied` when the
 * operation was refused (key state, policy, the caller's input), `error` when it could not be
 * done (I/O, a damaged store or file, an authentication failure).
 */
export type FailureOutcome = "denied" | "error";

export interface ErrorRow {
  /** The default message (the CLI and the wire print the thrown error's own message). */
  readonly message: string;
  /** The class `new PipesealError(code)` builds for this code. */
  readonly class: ErrorClassName;
  /** The HTTP status on the key service's and the aggregator's wire (the gateway keeps its own, see gateway/respond.ts). */
  readonly http: number;
  readonly exit: ExitStatus;
  readonly outcome: FailureOutcome;
}

function row(message: string, cls: ErrorClassName, http: number, exit: ExitStatus, outcome: FailureOutcome): ErrorRow {
  return { message, class: cls, http, exit, outcome };
}

/** Stable error codes. Add new ones at the end of their group; never rename one. */
export const ERROR_REGISTRY = {
  // authentication: one opaque code, no oracle detail
  DECRYPT_FAILED: row(
    "the data could not be authenticated: it is corrupt, truncated, tampered with, or sealed under another key or context",
    "DecryptError",
    400,
    EXIT.auth,
    "error",
  ),
  // sealed-file format
  NOT_SEALED: row("the input is not a pipeseal sealed file (bad magic)", "FormatError", 400, EXIT.format, "error"),
  UNSUPPORTED_FORMAT: row("the sealed file uses a format version or FLOE parameters this build does not support", "FormatError", 400, EXIT.format, "error"),
  MALFORMED_HEADER: row("the sealed-file header is malformed", "FormatError", 400, EXIT.format, "error"),
  LIMIT_EXCEEDED: row("a size or count limit of the format was exceeded", "FormatError", 400, EXIT.format, "denied"),
  RANGE_OUT_OF_BOUNDS: row("the requested byte range lies outside the plaintext", "UsageError", 400, EXIT.usage, "denied"),
  KEY_BLOCK_INVALID: row(
    "the sealed file's key block does not authenticate: a wrapped-key entry was added, removed, duplicated, reordered, altered or corrupted",
    "FormatError",
    400,
    EXIT.auth,
    "error",
  ),
  // keys
  KEY_NOT_FOUND: row("no key of that name exists in the keyring", "KeyError", 404, EXIT.key, "denied"),
  KEY_EXISTS: row("a key of that name already exists", "KeyError", 409, EXIT.key, "denied"),
  KEY_VERSION_NOT_FOUND: row("the key has no such version", "KeyError", 404, EXIT.key, "denied"),
  KEY_DISABLED: row("the key version is disabled", "KeyError", 409, EXIT.key, "denied"),
  KEY_DESTROYED: row("the key version was destroyed; data sealed under it can no longer be opened", "KeyError", 410, EXIT.key, "denied"),
  KEY_BELOW_MIN_VERSION: row("the key version is below the key's minimum decryption version", "KeyError", 409, EXIT.key, "denied"),
  KEY_USAGE_LIMIT: row("the key version reached its usage limit; rotate the key", "KeyError", 409, EXIT.key, "denied"),
  KEY_STATE_CONFLICT: row("the requested key state change is not allowed", "KeyError", 409, EXIT.key, "denied"),
  KEYRING_MISMATCH: row("the sealed file names a keyring that is not configured", "KeyError", 400, EXIT.key, "denied"),
  // keystore and master key
  KEYSTORE_NOT_INITIALIZED: row("no keystore was found; run `pipeseal init`", "KeystoreError", 400, EXIT.key, "error"),
  KEYSTORE_EXISTS: row("a keystore already exists here", "KeystoreError", 400, EXIT.key, "error"),
  KEYSTORE_CORRUPT: row("the keystore database is unreadable or inconsistent", "KeystoreError", 503, EXIT.key, "error"),
  MASTER_KEY_INSECURE: row("the master key file is readable by group or others", "KeystoreError", 400, EXIT.key, "error"),
  MASTER_KEY_UNAVAILABLE: row("the master key could not be loaded", "KeystoreError", 503, EXIT.key, "error"),
  MASTER_KEY_WRONG: row("the master key or passphrase does not match this keystore", "KeystoreError", 400, EXIT.key, "error"),
  KEYSTORE_INSECURE: row(
    "the keystore folder or database can be written by group or others (or belongs to another user)",
    "KeystoreError",
    400,
    EXIT.key,
    "error",
  ),
  KEYSTORE_BUSY: row("the keystore database is locked by another process", "KeystoreError", 503, EXIT.key, "error"),
  PASSPHRASE_WEAK: row("the passphrase is too weak for a new keystore", "KeystoreError", 400, EXIT.usage, "error"),
  // audit
  AUDIT_WRITE_FAILED: row("the audit record could not be written, so the operation was refused (fail closed)", "AuditError", 503, EXIT.audit, "error"),
  AUDIT_CHAIN_BROKEN: row("the audit chain does not verify", "AuditError", 503, EXIT.audit, "error"),
  AUDIT_ANCHOR_INVALID: row("an audit anchor is malformed, altered, or signed by another keystore's anchor key", "AuditError", 400, EXIT.audit, "error"),
  AUDIT_ROLLBACK: row(
    "the audit chain does not extend a signed anchor: the store was rolled back to an older copy, or its history was forked",
    "AuditError",
    409,
    EXIT.audit,
    "error",
  ),
  // PKI and transit
  CA_NOT_INITIALIZED: row("no certificate authority exists in this keystore; run `pipeseal ca init`", "KeyError", 400, EXIT.key, "denied"),
  CA_EXISTS: row("a certificate authority already exists in this keystore", "KeyError", 400, EXIT.key, "denied"),
  CERT_NOT_FOUND: row("no certificate with that serial or in that folder", "KeyError", 400, EXIT.key, "denied"),
  CERT_MALFORMED: row("a certificate, key, CSR or PEM file is malformed", "KeyError", 400, EXIT.key, "denied"),
  CERT_REJECTED: row(
    "a peer certificate was rejected (expired, not yet valid, wrong CA, revoked, pinned key mismatch, or identity not allowed)",
    "KeyError",
    403,
    EXIT.key,
    "denied",
  ),
  TLS_CONNECT_FAILED: row("a TLS connection could not be established", "EnvironmentError", 400, EXIT.failure, "error"),
  CRL_INVALID: row(
    "a certificate revocation list cannot be used: not signed by a trusted CA, older than the one in use, or past its nextUpdate",
    "KeyError",
    400,
    EXIT.key,
    "error",
  ),
  // model artifacts
  SIGNATURE_INVALID: row("a signature does not verify", "ArtifactError", 400, EXIT.auth, "error"),
  SIGNER_UNTRUSTED: row("the signer's key is not trusted for this model", "ArtifactError", 400, EXIT.auth, "error"),
  ARTIFACT_MISMATCH: row("the files do not match their signed manifest (changed, added, removed or renamed)", "ArtifactError", 400, EXIT.auth, "error"),
  ARTIFACT_UNSIGNED: row("the artifact has no signature", "ArtifactError", 400, EXIT.auth, "error"),
  ARTIFACT_NOT_FOUND: row("no such model version in the registry", "ArtifactError", 400, EXIT.usage, "error"),
  ARTIFACT_EXISTS: row("that model version already exists in the registry", "ArtifactError", 400, EXIT.usage, "error"),
  // user input and I/O
  INVALID_ARGUMENT: row("an argument is missing or malformed", "UsageError", 400, EXIT.usage, "denied"),
  IO_ERROR: row("a file could not be read or written", "EnvironmentError", 503, EXIT.failure, "error"),
  LISTEN_FAILED: row(
    "a server could not listen on its address (in use by another process, not allowed, or not an address of this machine)",
    "EnvironmentError",
    400,
    EXIT.failure,
    "error",
  ),
  // key service
  UNAUTHENTICATED: row(
    "the key service could not authenticate the caller (no or foreign client certificate, bad or expired token)",
    "ServiceError",
    401,
    EXIT.denied,
    "denied",
  ),
  ACCESS_DENIED: row("the key service's policy denied the operation", "ServiceError", 403, EXIT.denied, "denied"),
  NOT_FOUND: row("the key service or data gateway has no such route, proposal or object", "UsageError", 404, EXIT.usage, "denied"),
  PAYLOAD_TOO_LARGE: row("the request body is larger than the key service accepts", "UsageError", 413, EXIT.usage, "denied"),
  UNAVAILABLE: row("the key service is down, unreachable or could not complete the request", "ServiceError", 503, EXIT.failure, "error"),
  // field-level protection
  FIELD_MALFORMED: row("a protected field value is malformed (not a pipeseal field token, or damaged)", "FieldError", 400, EXIT.format, "error"),
  SUBJECT_NOT_FOUND: row("no such data subject (or subject namespace) in this keystore, so nothing was erased", "FieldError", 400, EXIT.usage, "denied"),
  // posture
  MAP_INVALID: row("the pipeline map (pipeline.yaml) is invalid", "UsageError", 400, EXIT.usage, "denied"),
  // differential privacy (src/privacy)
  PRIVACY_BUDGET_EXHAUSTED: row(
    "the query would spend more privacy budget than is left, so it was refused before any data was read",
    "PrivacyError",
    400,
    EXIT.denied,
    "denied",
  ),
  PRIVACY_BUDGET_NOT_FOUND: row("no privacy budget of that name in this keystore", "PrivacyError", 400, EXIT.usage, "denied"),
  // data gateway
  GATEWAY_DENIED: row("the data gateway's policy does not let this identity read this object", "ServiceError", 400, EXIT.denied, "denied"),
  GATEWAY_OBJECT_CHANGED: row(
    "the sealed file changed on disk while the data gateway was serving it, so the response was cut rather than continued from another object",
    "ServiceError",
    409,
    EXIT.failure,
    "error",
  ),
  // secrets (src/secrets)
  SECRET_NOT_FOUND: row("no secret of that name (or no such version) in the store", "KeyError", 404, EXIT.usage, "denied"),
  SECRET_DISABLED: row("the secret version is disabled", "KeyError", 409, EXIT.denied, "denied"),
  SECRET_DESTROYED: row("the secret version was destroyed; its value is gone", "KeyError", 410, EXIT.denied, "denied"),
  SECRET_STATE_CONFLICT: row("the requested secret state change is not allowed", "KeyError", 409, EXIT.usage, "denied"),
  CHILD_FAILED: row("the command given to `pipeseal run` could not be started", "EnvironmentError", 400, EXIT.failure, "error"),
  // monitor
  MONITOR_INPUT_INVALID: row("an audit line given to the monitor is not a pipeseal.audit.v1 record", "MonitorError", 400, EXIT.usage, "error"),
  MONITOR_CONFIG_INVALID: row("the monitor configuration (monitor.yaml) is invalid", "MonitorError", 400, EXIT.usage, "error"),
  MONITOR_STATE_INVALID: row("the monitor state file does not belong to this configuration or is damaged", "MonitorError", 400, EXIT.failure, "error"),
  // secure aggregation (src/secagg)
  SECAGG_ABORTED: row("the secure-aggregation round was aborted: fewer than the threshold of parties remained", "SecaggError", 409, EXIT.failure, "error"),
  SECAGG_PROTOCOL: row(
    "a secure-aggregation message broke the protocol (bad signature, another round's message, unknown party, wrong step, malformed)",
    "SecaggError",
    400,
    EXIT.failure,
    "error",
  ),
  SECAGG_UNSAFE_REQUEST: row(
    "the aggregator asked a party for shares that would reveal a peer's input, and the party refused",
    "SecaggError",
    400,
    EXIT.failure,
    "error",
  ),
  SECAGG_PENDING: row("the secure-aggregation round has not finished yet", "SecaggError", 409, EXIT.failure, "error"),
  SECAGG_INCONSISTENT: row(
    "the survivor set a party signed in the consistency check is not the one at least t parties signed (a split view, a forged or missing signature), so the party revealed nothing",
    "SecaggError",
    400,
    EXIT.failure,
    "error",
  ),
  MONITOR_QUEUE_FULL: row(
    "a monitor sink is not taking alerts and its queue is full; the monitor raised this as an alert and stopped",
    "MonitorError",
    400,
    EXIT.failure,
    "error",
  ),
  MONITOR_ALERT_NOT_FOUND: row("no alert with that id in this keystore", "MonitorError", 400, EXIT.usage, "error"),
  MONITOR_LOCKED: row("another monitor is running on the same state file", "MonitorError", 400, EXIT.failure, "error"),
  MONITOR_SINK_FAILED: row(
    "a monitor sink kept failing, so `monitor run --once` ended with alerts still owed to it",
    "MonitorError",
    400,
    EXIT.failure,
    "error",
  ),
  // crypto engine (src/engine)
  ENGINE_FAILED: row(
    "the native crypto engine (the system's OpenSSL) refused an operation or ran out of memory",
    "EnvironmentError",
    400,
    EXIT.failure,
    "error",
  ),
} as const satisfies Record<string, ErrorRow>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;
