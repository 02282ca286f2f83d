/**
 * Pins every code's HTTP status (key service) and CLI exit status as they were before the error
 * registry (src/error-registry.ts) replaced the two hand-written tables, so deriving both from
 * one row per code cannot move a status silently. Written from the old `statusFor` and
 * `exitCodeFor` before the change; the one difference is marked where it stands.
 */
import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { ERROR_CODES, type ErrorCode } from "../../src/errors.js";
import { statusFor } from "../../src/server/errors.js";

/** code: [HTTP status on the key service, CLI exit status] */
const BEFORE: Record<ErrorCode, readonly [number, number]> = {
  DECRYPT_FAILED: [400, 3],
  NOT_SEALED: [400, 6],
  UNSUPPORTED_FORMAT: [400, 6],
  MALFORMED_HEADER: [400, 6],
  LIMIT_EXCEEDED: [400, 6],
  RANGE_OUT_OF_BOUNDS: [400, 2],
  KEY_BLOCK_INVALID: [400, 3],
  KEY_NOT_FOUND: [404, 4],
  KEY_EXISTS: [409, 4],
  KEY_VERSION_NOT_FOUND: [404, 4],
  KEY_DISABLED: [409, 4],
  KEY_DESTROYED: [410, 4],
  KEY_BELOW_MIN_VERSION: [409, 4],
  KEY_USAGE_LIMIT: [409, 4],
  KEY_STATE_CONFLICT: [409, 4],
  KEYRING_MISMATCH: [400, 4],
  KEYSTORE_NOT_INITIALIZED: [400, 4],
  KEYSTORE_EXISTS: [400, 4],
  KEYSTORE_CORRUPT: [503, 4],
  MASTER_KEY_INSECURE: [400, 4],
  MASTER_KEY_UNAVAILABLE: [503, 4],
  MASTER_KEY_WRONG: [400, 4],
  KEYSTORE_INSECURE: [400, 4],
  KEYSTORE_BUSY: [503, 4],
  PASSPHRASE_WEAK: [400, 2],
  AUDIT_WRITE_FAILED: [503, 5],
  AUDIT_CHAIN_BROKEN: [503, 5],
  AUDIT_ANCHOR_INVALID: [400, 5],
  AUDIT_ROLLBACK: [409, 5],
  CA_NOT_INITIALIZED: [400, 4],
  CA_EXISTS: [400, 4],
  CERT_NOT_FOUND: [400, 4],
  CERT_MALFORMED: [400, 4],
  CERT_REJECTED: [403, 4],
  TLS_CONNECT_FAILED: [400, 1],
  CRL_INVALID: [400, 4],
  SIGNATURE_INVALID: [400, 3],
  SIGNER_UNTRUSTED: [400, 3],
  ARTIFACT_MISMATCH: [400, 3],
  ARTIFACT_UNSIGNED: [400, 3],
  ARTIFACT_NOT_FOUND: [400, 2],
  ARTIFACT_EXISTS: [400, 2],
  INVALID_ARGUMENT: [400, 2],
  IO_ERROR: [503, 1],
  LISTEN_FAILED: [400, 1],
  UNAUTHENTICATED: [401, 7],
  ACCESS_DENIED: [403, 7],
  NOT_FOUND: [404, 2],
  PAYLOAD_TOO_LARGE: [413, 2],
  UNAVAILABLE: [503, 1],
  FIELD_MALFORMED: [400, 6],
  SUBJECT_NOT_FOUND: [400, 2],
  MAP_INVALID: [400, 2],
  PRIVACY_BUDGET_EXHAUSTED: [400, 7],
  PRIVACY_BUDGET_NOT_FOUND: [400, 2],
  GATEWAY_DENIED: [400, 7],
  GATEWAY_OBJECT_CHANGED: [409, 1],
  SECRET_NOT_FOUND: [404, 2],
  SECRET_DISABLED: [409, 7],
  SECRET_DESTROYED: [410, 7],
  SECRET_STATE_CONFLICT: [409, 2],
  CHILD_FAILED: [400, 1],
  MONITOR_INPUT_INVALID: [400, 2],
  MONITOR_CONFIG_INVALID: [400, 2],
  MONITOR_STATE_INVALID: [400, 1],
  // the key service never sends SECAGG_*; the aggregator, which does, always answered 409 (secagg/server.ts), now from the same row
  SECAGG_ABORTED: [409, 1],
  SECAGG_PROTOCOL: [400, 1],
  SECAGG_UNSAFE_REQUEST: [400, 1],
  SECAGG_PENDING: [409, 1],
  SECAGG_INCONSISTENT: [400, 1], // new with the consistency check (Bonawitz et al. 2017 Round 3); never sent by the key service
  MONITOR_QUEUE_FULL: [400, 1],
  MONITOR_ALERT_NOT_FOUND: [400, 2],
  MONITOR_LOCKED: [400, 1],
  MONITOR_SINK_FAILED: [400, 1],
  ENGINE_FAILED: [400, 1],
};

describe("error statuses before and after the registry", () => {
  it("covers every code", () => {
    expect(Object.keys(BEFORE).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
  it("keeps each code's HTTP status and exit status", () => {
    for (const code of Object.keys(BEFORE) as ErrorCode[]) {
      expect([code, statusFor(code), exitCodeFor(code)]).toEqual([code, ...BEFORE[code]]);
    }
  });
});
