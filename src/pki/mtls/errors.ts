/**
 * Transit errors: every TLS/mTLS failure the client or server sees becomes a PipesealError
 * with a stable code (CERT_REJECTED or TLS_CONNECT_FAILED) and a machine-readable reason.
 */
import type { X509Certificate } from "node:crypto";
import { PipesealError, isPipesealError } from "../../errors.js";
import type { RejectReason } from "./peer.js";

/** Which side refused: `local` = we refused the peer's certificate, `remote` = the peer refused ours (TLS alert or pipeseal 403). */
export type RejectedBy = "local" | "remote";

/** A TLS/mTLS failure. `code` is CERT_REJECTED (a certificate was refused) or TLS_CONNECT_FAILED. */
export class TransitError extends PipesealError {
  readonly reason: RejectReason;
  readonly rejectedBy: RejectedBy;
  constructor(code: "CERT_REJECTED" | "TLS_CONNECT_FAILED", reason: RejectReason, rejectedBy: RejectedBy, detail: string, options?: { cause?: unknown }) {
    super(
      code,
      `${code === "CERT_REJECTED" ? "certificate rejected" : "TLS connection failed"} (${reason}, by ${rejectedBy === "local" ? "us" : "the peer"}): ${detail}`,
      options,
    );
    this.reason = reason;
    this.rejectedBy = rejectedBy;
  }
}

/** Node/OpenSSL verification codes for a certificate we refused. */
const LOCAL: Record<string, RejectReason> = {
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not-yet-valid",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown-ca",
  UNABLE_TO_GET_ISSUER_CERT: "unknown-ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown-ca",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown-ca",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown-ca",
  CERT_SIGNATURE_FAILURE: "unknown-ca",
  CERT_UNTRUSTED: "unknown-ca",
  CERT_REVOKED: "revoked",
  UNABLE_TO_GET_CRL: "revoked",
  ERR_TLS_CERT_ALTNAME_INVALID: "hostname-mismatch",
  INVALID_PURPOSE: "bad-certificate",
};

/** TLS alerts the peer sent us about our certificate (OpenSSL error codes as node names them). */
const REMOTE: Record<string, RejectReason> = {
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "expired",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "unknown-ca",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: "revoked",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "bad-certificate",
  ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: "bad-certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: "bad-certificate",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: "no-certificate",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: "handshake-failed",
};

const PROTOCOL = new Set([
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_VERSION_TOO_LOW",
]);

const CLOSED = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/**
 * Maps any error from a TLS connection, undici or fetch (which wraps the real error as
 * `cause`) to a PipesealError. A PipesealError found on the cause chain is returned as is.
 * Unknown errors become TLS_CONNECT_FAILED (reason handshake-failed) with the original as cause.
 */
export function toTransitError(err: unknown, ownCert?: X509Certificate): PipesealError {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    if (isPipesealError(e)) return e;
    const code = codeOf(e);
    if (!code) continue;
    const msg = (e as Error).message ?? code;
    if (LOCAL[code]) return new TransitError("CERT_REJECTED", LOCAL[code], "local", `${code}: ${msg}`, { cause: err });
    if (REMOTE[code]) {
      const reason = REMOTE[code];
      return new TransitError(reason === "handshake-failed" ? "TLS_CONNECT_FAILED" : "CERT_REJECTED", reason, "remote", `${code}: ${msg}`, { cause: err });
    }
    if (PROTOCOL.has(code))
      return new TransitError("TLS_CONNECT_FAILED", "protocol-version", code.includes("ALERT") ? "remote" : "local", `${code}: ${msg}`, { cause: err });
    if (CLOSED.has(code)) return closedByPeer(code, msg, err, ownCert);
  }
  const detail = err instanceof Error ? `${codeOf(err) ?? err.name}: ${err.message}` : String(err);
  return new TransitError("TLS_CONNECT_FAILED", "handshake-failed", "local", detail, { cause: err });
}

/** The response header a pipeseal server sets on the 403 it writes to a refused (but CA-valid) peer. */
export const REJECT_HEADER = "x-pipeseal-error";

/**
 * A node TLS server with rejectUnauthorized closes the connection after a TLS 1.3 handshake
 * without an alert when it refuses our certificate (only a missing one gets an alert), so
 * the wire carries no reason. What we can tell from our own certificate, we tell.
 */
function closedByPeer(code: string, msg: string, err: unknown, own: X509Certificate | undefined): PipesealError {
  const now = Date.now();
  if (own && Date.parse(own.validTo) < now) {
    return new TransitError(
      "CERT_REJECTED",
      "expired",
      "remote",
      `the server closed the connection; our certificate expired at ${new Date(own.validTo).toISOString()}`,
      { cause: err },
    );
  }
  if (own && Date.parse(own.validFrom) > now) {
    return new TransitError(
      "CERT_REJECTED",
      "not-yet-valid",
      "remote",
      `the server closed the connection; our certificate is valid only from ${new Date(own.validFrom).toISOString()}`,
      { cause: err },
    );
  }
  return new TransitError(
    "TLS_CONNECT_FAILED",
    "closed-by-peer",
    "remote",
    `${code}: the server closed the connection before answering; a pipeseal server does this when it refuses our certificate (unknown CA, revoked), and its peerRejected event names the reason (${msg})`,
    { cause: err },
  );
}
