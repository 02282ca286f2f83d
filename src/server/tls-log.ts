/**
 * The key service's log lines for the mTLS gate: every refused peer with its reason (a
 * revoked certificate names its serial, when and why it was revoked), CRL reloads, a stale
 * CRL, and reloads that failed. Refusals are logged, not audited: the gate has no
 * authenticated principal to record, and a flood of refused handshakes must not be able to
 * fill the audit chain.
 */
import type { Server as HttpsServer } from "node:https";
import type { MtlsServer } from "../pki/mtls/server.js";

/** Sends the gate's events to `log`, one line each, with no secret in any of them. */
export function logTlsEvents(mtls: MtlsServer<HttpsServer>, log: (line: string) => void): void {
  mtls.on("peerRejected", (e) => {
    const who = [e.identity, e.serialNumber ? `serial ${e.serialNumber}` : undefined, e.remoteAddress ? `from ${e.remoteAddress}` : undefined]
      .filter(Boolean)
      .join(", ");
    log(`refused a client (${e.reason})${who ? `: ${who}` : ""}${e.detail ? `; ${e.detail}` : ""}`);
  });
  mtls.on("crlReloaded", (e) =>
    log(`CRL reloaded${e.file ? ` from ${e.file}` : ""}: ${e.revoked} revoked serial(s), next update due ${e.nextUpdate.toISOString()}`),
  );
  mtls.on("crlExpired", (e) =>
    log(
      `WARNING: the CRL of "${e.issuer}"${e.file ? ` (${e.file})` : ""} expired at ${e.nextUpdate.toISOString()}: ${e.refusing ? "refusing every client certificate of that CA" : "still using it (tls.crlExpired: warn)"} until \`pipeseal ca crl -o ${e.file ?? "<file>"}\` replaces it`,
    ),
  );
  mtls.on("reloadError", (e) => log(`WARNING: reload refused, the previous certificate/CRL stays in use: ${e.message} [${e.code}]`));
  mtls.on("certReloaded", (e) => log(`certificate reloaded (serial ${e.serialNumber})`));
}
