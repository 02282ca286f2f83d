import type { ErrorCode } from "../errors.js";

/** Process exit codes by error family (docs/errors.md). */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, key: 4, audit: 5, format: 6, denied: 7, findings: 8 } as const;

export function exitCodeFor(code: ErrorCode): number {
  if (code === "DECRYPT_FAILED" || code === "KEY_BLOCK_INVALID") return EXIT.auth;
  if (["INVALID_ARGUMENT", "RANGE_OUT_OF_BOUNDS", "NOT_FOUND", "PAYLOAD_TOO_LARGE", "MAP_INVALID", "SUBJECT_NOT_FOUND", "PASSPHRASE_WEAK", "MONITOR_INPUT_INVALID", "MONITOR_CONFIG_INVALID", "MONITOR_ALERT_NOT_FOUND"].includes(code)) return EXIT.usage;
  if (code === "UNAUTHENTICATED" || code === "ACCESS_DENIED" || code === "GATEWAY_DENIED" || code === "PRIVACY_BUDGET_EXHAUSTED") return EXIT.denied;
  if (code === "PRIVACY_BUDGET_NOT_FOUND") return EXIT.usage;
  if (code === "SECRET_NOT_FOUND" || code === "SECRET_STATE_CONFLICT") return EXIT.usage;
  if (code === "SECRET_DISABLED" || code === "SECRET_DESTROYED") return EXIT.denied; // the secret exists but may not be read
  if (code.startsWith("AUDIT_")) return EXIT.audit;
  if (code.startsWith("SIGN") || code.startsWith("ARTIFACT_")) return code === "ARTIFACT_NOT_FOUND" || code === "ARTIFACT_EXISTS" ? EXIT.usage : EXIT.auth;
  if (code.startsWith("KEY") || code.startsWith("MASTER_") || code.startsWith("CA_") || code.startsWith("CERT_") || code.startsWith("CRL_")) return EXIT.key;
  if (["NOT_SEALED", "UNSUPPORTED_FORMAT", "MALFORMED_HEADER", "LIMIT_EXCEEDED", "FIELD_MALFORMED"].includes(code)) return EXIT.format;
  return EXIT.failure;
}
