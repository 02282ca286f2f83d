/**
 * `mtlsServerOptions`: the mTLS server pieces for frameworks that create the server
 * themselves (fastify, express behind https.createServer).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Server as HttpsServer, createServer } from "node:https";
import type { TLSSocket, TlsOptions } from "node:tls";
import { type MtlsServerOptions, PeerGate } from "./gate.js";
import type { PeerVerdict } from "./peer.js";
import { type MtlsServer, wrap } from "./server.js";

export interface MtlsServerParts {
  /** Options for `https.createServer` / fastify's `https`: certificate, CA, CRL, TLS ≥ 1.3 (or 1.2), client certificate required. */
  readonly https: TlsOptions;
  /**
   * For fastify's `serverFactory`: an https server with the full peer gate (refused peers
   * never reach fastify), certificate reload and `peerRejected` events on `mtls`.
   */
  readonly serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) => HttpsServer;
  /** The wrapper of the last server made by `serverFactory` (events, reload, setCrl), once made. */
  readonly mtls: () => MtlsServer<HttpsServer> | undefined;
  /**
   * The identity check for servers built from `https` alone (no serverFactory): call it in
   * an `onRequest` hook with `req.raw.socket` and answer 403 when it is not ok. Weaker than
   * serverFactory: the request has already been parsed, and certificates are not reloaded.
   */
  readonly verifyPeer: (socket: TLSSocket) => PeerVerdict;
  /** Whether the CRL in use lists a certificate serial (no CRL configured: false): for credentials minted over a certificate, such as bearer tokens. */
  readonly revokes: (serial: string) => boolean;
}

/**
 * The mTLS server configuration as parts for a framework.
 *
 * Security guarantees: as `createMtlsServer` when `serverFactory` is used; with `https` plus
 * `verifyPeer`, TLS-level checks are the same but the identity check runs per request.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { mtlsServerOptions, peerOf } from "pipeseal/pki";
 *
 * const mtls = mtlsServerOptions({ certDir: "certs/registry", allow: ["spiffe://acme/prod/*"] });
 * const app = Fastify({ serverFactory: mtls.serverFactory });
 * app.get("/whoami", async (req) => ({ peer: peerOf(req.raw)?.spiffeId }));
 * await app.listen({ port: 8443, host: "0.0.0.0" });
 * mtls.mtls()?.on("peerRejected", (e) => app.log.warn(e, "peer refused"));
 *
 * // or, without serverFactory (per-request check):
 * const app2 = Fastify({ https: mtls.https });
 * app2.addHook("onRequest", async (req, reply) => {
 *   const v = mtls.verifyPeer(req.raw.socket as TLSSocket);
 *   if (!v.ok) return reply.code(403).header("x-pipeseal-error", "CERT_REJECTED").send();
 * });
 * ```
 * @throws as createMtlsServer
 */
export function mtlsServerOptions(options: MtlsServerOptions): MtlsServerParts {
  const gate = new PeerGate(options);
  let last: MtlsServer<HttpsServer> | undefined;
  return {
    https: gate.tlsOptions(),
    serverFactory(handler) {
      const server = createServer(gate.tlsOptions(), handler);
      gate.attach(server);
      last = wrap(server, gate);
      return server;
    },
    mtls: () => last,
    verifyPeer: (socket) => gate.verify(socket),
    revokes: (serial) => gate.revokes(serial),
  };
}
