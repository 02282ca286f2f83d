/**
 * `startGateway`: the data gateway, an HTTPS server with mutual TLS (the transit helpers:
 * TLS 1.3, client certificates from the pipeseal CA, SPIFFE allow-list, reload on renewal)
 * over sealed files under one root. It decrypts only the segments a request touches, in
 * memory, for an authenticated and authorized peer, and audits every object a peer opens.
 */
import { listenError } from "../io/listen-error.js";
import { realpathSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server as HttpsServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ErrorCode, UsageError } from "../errors.js";
import { LocalKeystore } from "../keys/local-keystore.js";
import { type MtlsServer, createMtlsServer } from "../pki/mtls/server.js";
import type { CertSource } from "../pki/mtls/material.js";
import { type MtlsServerOptions, peerOf } from "../pki/mtls/gate.js";
import { type GatewayBackend, localBackend } from "./backend.js";
import { type GatewayLog, type Peer, handleRequest } from "./handler.js";
import { PeerTokens } from "./peer-tokens.js";
import { compileIdentityPattern } from "./identity-pattern.js";
import { OpenObjects } from "./objects.js";
import type { GatewayPolicy } from "./policy.js";
import { codeOf, sendError } from "./respond.js";

/** The audit operation of a TLS-level refusal (no certificate, another CA, identity not on the gate's list). */
export const GATEWAY_REJECT = "gateway.reject";

export interface GatewayOptions {
  /** Folder of sealed files: `ROOT/a/b.jsonl.pseal` is served at `/a/b.jsonl`. */
  readonly root: string;
  /** The local keystore (unwraps recorded as the peer), or any backend. */
  readonly keys: LocalKeystore | GatewayBackend;
  /** The gateway's certificate (a `pipeseal ca issue` folder) and TLS settings; `allow` comes from below. */
  readonly tls: CertSource & Pick<MtlsServerOptions, "minVersion" | "crl" | "crlFile" | "crlExpired" | "pin" | "watch">;
  /** SPIFFE patterns of the peers let in (`*` may stand inside the env or service part). */
  readonly allow?: readonly string[];
  /** gateway.yaml rules (deny by default); with `allow`, a request must pass both. */
  readonly policy?: GatewayPolicy;
  /** Longest time an opened object (its FLOE keys) stays in memory, and the audit window; default 60 s. */
  readonly keyTtlMs?: number;
  /** A connection with no progress for this long (a stalled reader) is closed; default 30 s. */
  readonly idleTimeoutMs?: number;
  /** Connections open at once; more are refused at accept; default 256. */
  readonly maxConnections?: number;
  /** Clock in epoch ms (tests move it to expire entries). */
  readonly now?: () => number;
  /**
   * Also let in peers without a client certificate that send `Authorization: Bearer <token>`
   * (a token from the key service, `pipeseal token mint`); needs a backend that checks tokens
   * (the key service: `--server`). A certificate that is presented must still pass every check.
   */
  readonly tokens?: boolean;
  /** Longest a checked token's answer is reused before the key service is asked again; default 10 s. */
  readonly tokenRecheckMs?: number;
  /** Log lines (JSON-able); default: none. */
  readonly log?: (e: GatewayLog) => void;
}

export interface Gateway {
  /** `https://host:port` */
  readonly url: string;
  readonly address: AddressInfo;
  readonly mtls: MtlsServer<HttpsServer>;
  /** Objects (readers with their FLOE keys) held in memory now. */
  readonly openObjects: number;
  /** Expires entries past their TTL now (a timer does it every second). */
  sweep(): void;
  /** Stops accepting, closes idle connections, waits for the rest, wipes every open object. */
  close(): Promise<void>;
}

/**
 * @example
 * const gw = await startGateway({ root: "datasets", keys: ks, tls: { certDir: "certs/gateway" }, allow: ["spiffe://acme.ml/prod/trainer*"] }, { port: 9443 });
 * @throws UsageError(INVALID_ARGUMENT) for a missing root, no allow-list and no policy, or a bad pattern;
 *   PipesealError(CERT_MALFORMED | CERT_NOT_FOUND) for the certificate folder.
 */
export async function startGateway(options: GatewayOptions, listen: { port?: number; host?: string } = {}): Promise<Gateway> {
  const rootReal = checkRoot(options.root);
  const allow = options.allow?.map((p) => compileIdentityPattern(p, "--allow"));
  if (!allow?.length && !options.policy?.rules.length)
    throw new UsageError("INVALID_ARGUMENT", "the gateway needs --allow patterns or a policy with rules (it denies by default)");
  // the TLS gate lets in the widest form of each pattern; the exact match is checked per request (and audited)
  const gatePatterns = [...new Set((allow ?? options.policy!.rules.flatMap((r) => r.identities)).map((p) => p.gate))];
  const backend = options.keys instanceof LocalKeystore ? localBackend(options.keys) : options.keys;
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const objects = new OpenObjects(backend, options.keyTtlMs ?? 60_000, now, (e) => log({ level: "error", msg: "closing an object failed", code: codeOf(e) }));
  const deps = { rootReal, allow, policy: options.policy, backend, objects, log };
  if (options.tokens && !backend.verifyToken)
    throw new UsageError("INVALID_ARGUMENT", "bearer tokens for gateway clients come from the key service: give --server");
  const tokens = options.tokens && backend.verifyToken ? new PeerTokens((t) => backend.verifyToken!(t), now, options.tokenRecheckMs ?? 10_000) : undefined;
  const mtls = createMtlsServer({ ...options.tls, allow: gatePatterns, ...(tokens ? { clientCertOptional: true } : {}) } as MtlsServerOptions);
  mtls.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    identify(deps, req, res, tokens)
      .then((peer) => (peer === undefined ? undefined : handleRequest(deps, req, res, peer)))
      .catch((e: unknown) => {
        log({ level: "error", msg: "request failed", code: codeOf(e) });
        sendError(res, "INTERNAL");
      });
  });
  mtls.on("peerRejected", (e) => {
    try {
      backend.record({
        operation: GATEWAY_REJECT,
        principal: e.identity ?? "unauthenticated",
        outcome: "denied",
        errorCode: "CERT_REJECTED",
        context: { reason: e.reason, ...(e.remoteAddress ? { remoteAddress: e.remoteAddress } : {}) },
      });
    } catch (err) {
      log({ level: "error", msg: "could not audit a refused peer", code: codeOf(err) });
    }
    log({ level: "warn", msg: `peer refused: ${e.reason}`, ...(e.identity ? { principal: e.identity } : {}) });
  });
  mtls.on("certReloaded", (e) => log({ level: "info", msg: `certificate reloaded (serial ${e.serialNumber})` }));
  mtls.on("reloadError", (e) => log({ level: "error", msg: "renewed certificate not usable; keeping the old one", code: e.code }));
  const server = mtls.server;
  server.maxConnections = options.maxConnections ?? 256;
  server.timeout = options.idleTimeoutMs ?? 30_000; // idle socket (a reader that stopped reading): destroyed
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const [bindHost, bindPort] = [listen.host ?? "127.0.0.1", listen.port ?? 0];
  const address = await mtls.listen(bindPort, bindHost).catch(async (e: unknown) => {
    await mtls.close().catch(() => undefined);
    throw listenError(e, bindHost, bindPort); // a busy port is LISTEN_FAILED, as for `serve`
  });
  const timer = setInterval(() => objects.sweep(), 1000);
  timer.unref();
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `https://${host}:${address.port}`,
    address,
    mtls,
    get openObjects() {
      return objects.size;
    },
    sweep: () => objects.sweep(),
    async close() {
      clearInterval(timer);
      const closing = mtls.close();
      server.closeIdleConnections();
      await closing;
      objects.closeAll();
      await backend.flush?.();
    },
  };
}

/**
 * The peer of a request: its certificate's identity (the TLS gate has checked it), or, on a
 * gateway that takes tokens, the identity of a valid bearer token. Anything else is refused
 * with 401 (audited as a refused peer) and yields undefined.
 */
async function identify(
  deps: { backend: GatewayBackend; log: (e: GatewayLog) => void },
  req: IncomingMessage,
  res: ServerResponse,
  tokens: PeerTokens | undefined,
): Promise<Peer | undefined> {
  const peer = peerOf(req);
  if (peer) return { principal: peer.spiffeId };
  const header = req.headers.authorization;
  const m = typeof header === "string" ? /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(header) : null;
  let refusal: ErrorCode = "UNAUTHENTICATED";
  if (tokens && m) {
    try {
      return { principal: await tokens.identify(m[1]), token: m[1] };
    } catch (e) {
      const code = codeOf(e);
      if (code !== "UNAUTHENTICATED" && code !== "GATEWAY_DENIED") {
        // the key service could not be asked: no verdict on the token (503), nothing to audit as a refusal
        deps.log({ level: "error", msg: "could not check a bearer token", code });
        sendError(res, code === "INTERNAL" ? "UNAVAILABLE" : code);
        return undefined;
      }
      refusal = code;
    }
  }
  const reason = !m ? "no-credentials" : refusal === "GATEWAY_DENIED" ? "token-identity-not-served" : "bad-token";
  try {
    deps.backend.record({
      operation: GATEWAY_REJECT,
      principal: "unauthenticated",
      outcome: "denied",
      errorCode: refusal,
      context: { reason, ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}) },
    });
  } catch (e) {
    deps.log({ level: "error", msg: "could not audit a refused peer", code: codeOf(e) });
  }
  deps.log({ level: "warn", msg: `peer refused: ${reason}` });
  if (refusal === "UNAUTHENTICATED") res.setHeader("www-authenticate", 'Bearer realm="pipeseal-gateway"');
  sendError(res, refusal, refusal === "UNAUTHENTICATED" ? "a client certificate or a valid bearer token is required" : undefined);
  return undefined;
}

function checkRoot(root: string): string {
  try {
    const real = realpathSync(root);
    if (statSync(real).isDirectory()) return real;
  } catch {
    // reported below
  }
  throw new UsageError("INVALID_ARGUMENT", `the gateway root ${root} is not a folder`);
}
