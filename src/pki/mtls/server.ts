/**
 * `createMtlsServer`: an https (or http2) server that only talks to clients holding a
 * certificate from our CA with an allowed SPIFFE identity, and that picks up renewed
 * certificates without a restart.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, createSecureServer } from "node:http2";
import { type Server as HttpsServer, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { PipesealError } from "../../errors.js";
import { type MtlsServerEvents, type MtlsServerOptions, PeerGate, peerOf } from "./gate.js";
import type { PeerIdentity } from "./peer.js";

/** Handler of an https mTLS server: the request, the response and the authenticated peer. */
export type MtlsRequestHandler = (req: IncomingMessage, res: ServerResponse, peer: PeerIdentity) => void;
/** Handler of an http2 mTLS server (compatibility API). */
export type MtlsHttp2RequestHandler = (req: Http2ServerRequest, res: Http2ServerResponse, peer: PeerIdentity) => void;

/** A running mTLS server: the node server plus the gate's events, reload and CRL update. */
export interface MtlsServer<S extends HttpsServer | Http2SecureServer> {
  /** The underlying node server (use it for upgrade events, timeouts, …). */
  readonly server: S;
  /** Starts listening (default 127.0.0.1, port 0 = any free port). */
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /** Stops accepting, waits for open connections to end, stops the cert watcher. */
  close(): Promise<void>;
  /** Re-reads the cert dir now (the watcher does this on renewal). False if the files are unusable; the old certificate stays. */
  reload(): boolean;
  /** Replaces the CRL for new connections. @throws PipesealError(CERT_MALFORMED) */
  setCrl(crl: string | Buffer): void;
  on<E extends keyof MtlsServerEvents>(event: E, listener: (...args: MtlsServerEvents[E]) => void): this;
  off<E extends keyof MtlsServerEvents>(event: E, listener: (...args: MtlsServerEvents[E]) => void): this;
}

/**
 * Creates an mTLS server: TLS 1.3 (1.2 by option, nothing lower), a client certificate
 * from `ca.pem` required, the client's SPIFFE ID checked against `allow`, optional CRL and
 * pins; `certDir` is watched and a renewed certificate goes to new connections while open
 * ones carry on.
 *
 * Security guarantees: the handler runs only for connections whose client certificate
 * chains to the configured root, is within its validity period, is not on the CRL, carries
 * exactly one SPIFFE ID that the allow-list matches, and satisfies the pins. A peer that
 * fails the TLS-level checks is refused in the handshake (TLS alert); one that fails the
 * identity or pin check is refused right after it, before any of its bytes are parsed
 * (HTTP/1: a fixed `403` with `x-pipeseal-error: CERT_REJECTED`, then close; h2: close).
 * Every refusal emits `peerRejected`.
 *
 * @example
 * ```ts
 * const srv = createMtlsServer(
 *   { certDir: "certs/feature-store", allow: ["spiffe://acme/prod/trainer", "spiffe://acme/prod/*"] },
 *   (req, res, peer) => res.end(`hello ${peer.identity.service}`),
 * );
 * srv.on("peerRejected", (e) => log.warn({ reason: e.reason, identity: e.identity, from: e.remoteAddress }));
 * await srv.listen(8443, "0.0.0.0");
 * ```
 * @throws UsageError(INVALID_ARGUMENT) for a bad allow-list, pin or `minVersion` below TLS 1.2;
 *   PipesealError(CERT_MALFORMED) for unusable PEM; PipesealError(CERT_NOT_FOUND) for a missing file.
 */
export function createMtlsServer(options: MtlsServerOptions & { readonly http2?: false }, handler?: MtlsRequestHandler): MtlsServer<HttpsServer>;
export function createMtlsServer(options: MtlsServerOptions & { readonly http2: true }, handler?: MtlsHttp2RequestHandler): MtlsServer<Http2SecureServer>;
export function createMtlsServer(
  options: MtlsServerOptions & { readonly http2?: boolean },
  handler?: MtlsRequestHandler | MtlsHttp2RequestHandler,
): MtlsServer<HttpsServer> | MtlsServer<Http2SecureServer> {
  const gate = new PeerGate(options);
  const call = handler as ((req: { socket: unknown }, res: unknown, peer: PeerIdentity) => void) | undefined;
  const listener = call
    ? (req: { socket: unknown }, res: unknown) => {
        const peer = peerOf(req);
        // unreachable: the gate admits no connection without a peer
        if (!peer) throw new PipesealError("CERT_REJECTED", "request without an authenticated peer");
        call(req, res, peer);
      }
    : undefined;
  const server = options.http2
    ? createSecureServer({ ...gate.tlsOptions(), allowHTTP1: true }, listener as never)
    : createServer(gate.tlsOptions(), listener as never);
  gate.attach(server);
  return wrap<HttpsServer | Http2SecureServer>(server, gate) as MtlsServer<HttpsServer> | MtlsServer<Http2SecureServer>;
}

/** @internal shared by createMtlsServer and mtlsServerOptions().serverFactory */
export function wrap<S extends HttpsServer | Http2SecureServer>(server: S, gate: PeerGate): MtlsServer<S> {
  const api: MtlsServer<S> = {
    server,
    listen(port = 0, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      gate.stop();
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
    },
    reload: () => gate.reload(),
    setCrl: (crl) => gate.setCrl(crl),
    on(event, listener) {
      gate.on(event, listener as never);
      return api;
    },
    off(event, listener) {
      gate.off(event, listener as never);
      return api;
    },
  };
  return api;
}
