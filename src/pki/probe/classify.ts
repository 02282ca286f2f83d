/**
 * Reading handshake outcomes: did the server accept a protocol version, and does it require a
 * client certificate. Pure functions over what was observed, so every branch is testable.
 */
import { REJECT_HEADER } from "../mtls/errors.js";
import type { HandshakeOutcome } from "./handshake.js";
import type { ClientAuthResult, VersionProbe, TlsVersion } from "./types.js";

// Errors OpenSSL raises on this side before or instead of talking to the server.
const LOCAL_REFUSALS = new Set([
  "ERR_SSL_NO_PROTOCOLS_AVAILABLE",
  "ERR_SSL_NO_CIPHERS_AVAILABLE",
  "ERR_SSL_NO_CIPHER_MATCH",
  "ERR_TLS_INVALID_PROTOCOL_VERSION",
]);
// The server answered, but not with this version (RFC 8446 §4.2.1 / RFC 5246 §E.1).
const VERSION_MISMATCH = new Set([
  "ERR_SSL_UNSUPPORTED_PROTOCOL",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_VERSION_TOO_LOW",
  "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION",
]);
const CLOSED = new Set(["ECONNRESET", "ECONNCLOSED", "EPIPE"]);

function describe(o: HandshakeOutcome): string {
  return o.error ? `${o.error.code}${o.error.reason && o.error.reason !== o.error.code ? ` (${o.error.reason})` : ""}` : "no error";
}

/** Accepted only if the server negotiated the version (finished, or sent its certificate under it). */
export function classifyVersion(version: TlsVersion, o: HandshakeOutcome, ciphers: string): VersionProbe {
  if (o.secure) return { version, result: "accepted", ...(o.cipher ? { cipher: o.cipher.name } : {}) };
  if (o.chain.length > 0) {
    return { version, result: "accepted", detail: `the server negotiated ${version} and sent its certificate; the handshake then failed: ${describe(o)}` };
  }
  if (!o.connected) return { version, result: "no-answer", detail: describe(o) };
  const code = o.error?.code ?? "";
  if (LOCAL_REFUSALS.has(code) || o.bytesWritten === 0) {
    return {
      version,
      result: "not-testable",
      detail: `this client (OpenSSL ${process.versions.openssl}, ciphers ${ciphers}) would not offer ${version}: ${describe(o)}`,
    };
  }
  if (o.timedOut && o.bytesRead === 0) return { version, result: "no-answer", detail: "no reply to the ClientHello in time" };
  if (code.includes("_ALERT_") || VERSION_MISMATCH.has(code) || CLOSED.has(code)) return { version, result: "refused", detail: describe(o) };
  // Anything else is this client giving up on what the server sent, which says nothing about the server.
  return { version, result: "not-testable", detail: `this client stopped the handshake: ${describe(o)}` };
}

/** A pipeseal mTLS server's answer to a client identity it does not allow: a fixed 403 with the reject header. */
function isIdentityRefusal(head: string): boolean {
  const [status, ...headers] = head.split("\r\n\r\n")[0].split("\r\n");
  return (
    /^HTTP\/1\.[01] 403\b/.test(status ?? "") && headers.some((h) => h.toLowerCase().replace(/\s+/g, "") === `${REJECT_HEADER.toLowerCase()}:cert_rejected`)
  );
}

/**
 * Does the server require a client certificate? `bare` is a handshake without one followed by a
 * tiny request; `withCert` (optional) the same with the user's certificate.
 */
export function inferClientAuth(bare: HandshakeOutcome, withCert?: HandshakeOutcome, readWaitMs = 0): ClientAuthResult {
  const result = { ...bareVerdict(bare, readWaitMs) };
  if (withCert) {
    // A Node server that rejects a client certificate under TLS 1.3 drops the connection after the
    // handshake without an alert, so only an answer (or silence) after the handshake counts as success.
    const dropped = withCert.secure && !withCert.error && withCert.reply === "closed";
    const refused = withCert.reply === "data" && isIdentityRefusal(withCert.head ?? "");
    const ok = withCert.secure && !withCert.error && !dropped && !refused;
    const error = refused
      ? `the server refused our identity after the handshake (${withCert.firstLine}, ${REJECT_HEADER}: CERT_REJECTED)`
      : dropped
        ? "the server closed the connection right after the handshake, without an answer"
        : describe(withCert);
    result.withCertificate = { ok, protocol: withCert.protocol, cipher: withCert.cipher?.name ?? null, ...(ok ? {} : { error }) };
    if (result.required === true && ok) result.evidence += "; with the given certificate the handshake and a request succeeded";
  }
  return result;
}

function bareVerdict(o: HandshakeOutcome, readWaitMs: number): ClientAuthResult {
  const code = o.error?.code ?? "";
  // RFC 8446 §4.4.2.4: a TLS 1.3 server that needs a certificate sends certificate_required (116).
  if (code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED") {
    return { required: true, evidence: "certificate_required alert (TLS 1.3) when connecting without a client certificate" };
  }
  // RFC 5246 §7.4.6: TLS 1.2 has no such alert; OpenSSL sends handshake_failure (40) after our empty Certificate.
  if (o.error?.phase === "handshake" && o.chain.length > 0 && code === "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE") {
    return {
      required: true,
      evidence: "handshake_failure alert after the server sent its certificate and we sent none (how TLS 1.2 servers refuse a missing client certificate)",
    };
  }
  if (o.secure && !o.error && o.reply === "data") {
    return { required: false, evidence: `the server answered without a client certificate${o.firstLine ? ` (${o.firstLine})` : ""}` };
  }
  // TLS ≤ 1.2: the server's Finished comes after it has seen our (empty) Certificate message.
  if (o.secure && !o.error && o.protocol !== "TLSv1.3") {
    return { required: false, evidence: `the ${o.protocol} handshake completed without a client certificate` };
  }
  if (o.secure && !o.error && o.reply === "silent") {
    return {
      required: false,
      evidence: `no certificate_required alert within ${readWaitMs} ms of the TLS 1.3 handshake (the server did not answer the request either)`,
    };
  }
  if (o.secure && o.reply === "closed")
    return { required: null, evidence: "the server closed the connection after the handshake without an alert or an answer" };
  return { required: null, evidence: `the handshake without a client certificate failed: ${describe(o)}` };
}
