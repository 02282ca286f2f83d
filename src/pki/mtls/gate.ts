/**
 * The server half of mTLS, independent of the HTTP flavour: the secure-context options, the
 * peer check on every new TLS connection, the refused-peer events and certificate reload.
 * `createMtlsServer` and `mtlsServerOptions` (fastify) are thin shells around it.
 */
import { EventEmitter } from "node:events";
import type { Server as TlsServer, TLSSocket, TlsOptions } from "node:tls";
import { PipesealError, isPipesealError } from "../../errors.js";
import { type CertMaterial, type CertSource, certPaths, checkCrl, checkMaterial, loadMaterial } from "./material.js";
import { type PeerIdentity, type PeerVerdict, type PinOptions, type RejectReason, checkAllowList, checkPins, judgePeer } from "./peer.js";
import { REJECT_HEADER } from "./errors.js";
import { type MinTlsVersion, checkMinVersion } from "./tls-version.js";
import { type FileWatcher, type WatchOptions, watchFiles } from "./watch.js";

/** Options shared by `createMtlsServer` and `mtlsServerOptions`. */
export type MtlsServerOptions = CertSource & {
  /** SPIFFE ID patterns of the clients allowed in (`*` for any env or any service). */
  readonly allow: readonly string[];
  /** Protocol floor: "TLSv1.3" (default) or "TLSv1.2"; anything lower is refused. */
  readonly minVersion?: MinTlsVersion;
  /** PEM CRL(s); clients whose certificate is listed are refused in the handshake. */
  readonly crl?: string | Buffer;
  readonly pin?: PinOptions;
  /** Reload `certDir` when renewed (default true with certDir; ignored for inline PEM). */
  readonly watch?: boolean | WatchOptions;
  /**
   * Also let in connections that present no client certificate at all (default false). Their
   * requests have no {@link peerOf} identity: the application must authenticate each one
   * some other way (the key service: a bearer token) or refuse it. A certificate that IS
   * presented must still pass every check (CA, validity, CRL, allow-list, pins): a bad
   * certificate is never downgraded to "none".
   */
  readonly clientCertOptional?: boolean;
};

/** One refused peer, emitted as `peerRejected`. */
export interface PeerRejectedEvent {
  readonly reason: RejectReason;
  /** The peer's SPIFFE ID, when its certificate got far enough to be read. */
  readonly identity?: string;
  readonly remoteAddress?: string;
  /** Node/OpenSSL error code for handshake failures. */
  readonly code?: string;
}

export interface MtlsServerEvents {
  peerRejected: [PeerRejectedEvent];
  /** New connections now get this certificate. */
  certReloaded: [{ serialNumber: string }];
  /** A renewal could not be loaded; the previous certificate stays in use. */
  reloadError: [PipesealError];
}

const PEER = Symbol("pipeseal.peer");

/** The authenticated peer of a request (https or http2 compat), or undefined off an mTLS server. */
export function peerOf(req: { socket: unknown }): PeerIdentity | undefined {
  return (req.socket as { [PEER]?: PeerIdentity } | null)?.[PEER];
}

// Written to an HTTP/1 peer that passed the CA but not the allow-list or pins, before any of
// its bytes are parsed. Fixed text: no detail beyond "not allowed" leaves the server.
const FORBIDDEN = Buffer.from(`HTTP/1.1 403 Forbidden\r\n${REJECT_HEADER}: CERT_REJECTED\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);

const HANDSHAKE: Record<string, RejectReason> = {
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: "no-certificate",
  ERR_SSL_UNSUPPORTED_PROTOCOL: "protocol-version",
  ERR_SSL_NO_PROTOCOLS_AVAILABLE: "protocol-version",
  ERR_SSL_WRONG_VERSION_NUMBER: "protocol-version",
  ERR_SSL_VERSION_TOO_LOW: "protocol-version",
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: "protocol-version",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not-yet-valid",
  CERT_REVOKED: "revoked",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown-ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown-ca",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown-ca",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown-ca",
  CERT_SIGNATURE_FAILURE: "unknown-ca",
  UNABLE_TO_GET_CRL: "revoked",
  INVALID_PURPOSE: "bad-certificate",
  ECONNRESET: "closed-by-peer",
};

/** @internal the engine behind createMtlsServer and mtlsServerOptions. */
export class PeerGate extends EventEmitter<MtlsServerEvents> {
  readonly #source: CertSource;
  readonly #allow: readonly string[];
  readonly #pin: PinOptions | undefined;
  readonly #minVersion: MinTlsVersion;
  #crl: string | undefined;
  #material: CertMaterial;
  #servers = new Set<TlsServer>();
  #watcher: FileWatcher | undefined;
  readonly #watchOptions: WatchOptions | undefined;
  readonly #certOptional: boolean;

  constructor(options: MtlsServerOptions) {
    super();
    this.#certOptional = options.clientCertOptional === true;
    this.#minVersion = checkMinVersion(options.minVersion);
    this.#allow = checkAllowList(options.allow, "allow");
    checkPins(options.pin);
    this.#pin = options.pin;
    if (options.crl !== undefined) {
      this.#crl = checkCrl(options.crl);
    }
    this.#source = "certDir" in options && typeof options.certDir === "string" ? { certDir: options.certDir } : { cert: (options as { cert: string }).cert, key: (options as { key: string }).key, ca: (options as { ca: string }).ca };
    this.#material = loadMaterial(this.#source);
    this.#watchOptions = options.watch === false || !("certDir" in this.#source) ? undefined : options.watch === true || !options.watch ? {} : options.watch;
  }

  /** Options for `tls`/`https`/`http2` server constructors and `setSecureContext`. */
  tlsOptions(): TlsOptions {
    const m = this.#material;
    return {
      cert: m.cert,
      key: m.key,
      ca: m.ca,
      ...(this.#crl ? { crl: this.#crl } : {}),
      minVersion: this.#minVersion,
      maxVersion: "TLSv1.3",
      requestCert: true,
      // with an optional client certificate OpenSSL still verifies one that is presented;
      // verify() then refuses it on the verification result, after the handshake
      rejectUnauthorized: !this.#certOptional,
    };
  }

  /** Judges the peer of an established connection (cached per socket). */
  verify(socket: TLSSocket): PeerVerdict {
    const cached = (socket as { [PEER]?: PeerIdentity })[PEER];
    if (cached) return { ok: true, peer: cached };
    if (!socket.authorized) return { ok: false, reason: HANDSHAKE[String(socket.authorizationError)] ?? "no-certificate" };
    // the detailed form walks the whole chain into JS objects; only a CA pin needs it
    const verdict = judgePeer(socket.getPeerCertificate(!!this.#pin?.caSha256?.length), this.#allow, this.#pin);
    if (verdict.ok) Object.defineProperty(socket, PEER, { value: verdict.peer });
    return verdict;
  }

  /**
   * Puts the peer check in front of the server's own connection handler, so a refused
   * peer's bytes never reach the HTTP parser, and reports handshake failures.
   */
  attach(server: TlsServer): void {
    const inner = server.listeners("secureConnection") as ((s: TLSSocket) => void)[];
    server.removeAllListeners("secureConnection");
    server.on("secureConnection", (socket: TLSSocket) => {
      if (this.#certOptional && !presentsCertificate(socket)) {
        for (const l of inner) l.call(server, socket); // no identity: the application authenticates each request
        return;
      }
      const verdict = this.verify(socket);
      if (verdict.ok) {
        for (const l of inner) l.call(server, socket);
        return;
      }
      this.emit("peerRejected", { reason: verdict.reason, ...(verdict.identity ? { identity: verdict.identity } : {}), ...addr(socket) });
      refuse(socket);
    });
    server.on("tlsClientError", (err: Error & { code?: string }, socket: TLSSocket) => {
      // node destroys a socket whose certificate failed verification without a TLS alert
      // and reports ECONNRESET here; the verification code is on the socket
      const authErr = (socket as { authorizationError?: unknown } | undefined)?.authorizationError;
      const code = typeof authErr === "string" ? authErr : (err.code ?? "");
      const reason = HANDSHAKE[code] ?? diagnose(err);
      this.emit("peerRejected", { reason, code, ...addr(socket) });
    });
    // a socket destroyed in the handshake no longer knows its peer address: note it first
    server.prependListener("connection", (raw: { remoteAddress?: string }) => void raw.remoteAddress);
    this.#servers.add(server);
    server.once("close", () => this.#servers.delete(server));
    if (this.#watchOptions && !this.#watcher && "certDir" in this.#source) {
      const p = certPaths(this.#source.certDir);
      this.#watcher = watchFiles(this.#source.certDir, [p.cert, p.key, p.ca], () => this.reload(), this.#watchOptions);
    }
  }

  /**
   * Re-reads the cert dir and, if the files are complete and consistent, gives new
   * connections the new certificate. Open connections keep theirs. Returns false (and emits
   * `reloadError`) if the files are not usable yet; the old certificate stays.
   */
  reload(): boolean {
    try {
      const m = loadMaterial(this.#source);
      const prev = this.#material;
      this.#material = m;
      try {
        for (const s of this.#servers) s.setSecureContext(this.tlsOptions());
      } catch (e) {
        this.#material = prev;
        throw new PipesealError("CERT_MALFORMED", "renewed certificate could not be loaded into a TLS context", { cause: e });
      }
      this.emit("certReloaded", { serialNumber: checkMaterial(m).serialNumber });
      return true;
    } catch (e) {
      this.emit("reloadError", isPipesealError(e) ? e : new PipesealError("CERT_MALFORMED", String(e), { cause: e }));
      return false;
    }
  }

  /** Replaces the CRL for new connections. @throws PipesealError(CERT_MALFORMED) */
  setCrl(crl: string | Buffer): void {
    this.#crl = checkCrl(crl);
    for (const s of this.#servers) s.setSecureContext(this.tlsOptions());
  }

  /** Stops watching the cert dir. */
  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

function presentsCertificate(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== null && typeof cert === "object" && Object.keys(cert).length > 0;
}

function addr(socket: TLSSocket | undefined): { remoteAddress?: string } {
  const a = socket?.remoteAddress ?? (socket as { _parent?: { remoteAddress?: string } } | undefined)?._parent?.remoteAddress;
  return a ? { remoteAddress: a } : {};
}

function diagnose(err: Error): RejectReason {
  const m = err.message.toLowerCase();
  if (m.includes("peer did not return a certificate") || m.includes("certificate required")) return "no-certificate";
  if (m.includes("version")) return "protocol-version";
  if (m.includes("expired")) return "expired";
  if (m.includes("not yet valid")) return "not-yet-valid";
  if (m.includes("revoked")) return "revoked";
  if (m.includes("certificate verify failed") || m.includes("unknown ca")) return "unknown-ca";
  return "handshake-failed";
}

function refuse(socket: TLSSocket): void {
  if (socket.alpnProtocol === "h2") {
    socket.destroy();
    return;
  }
  // drain (never parse) what the client already sent, so closing does not turn into a TCP
  // RST that could discard our 403 before the client reads it
  socket.on("data", () => {});
  socket.on("error", () => {});
  socket.end(FORBIDDEN);
  setTimeout(() => socket.destroy(), 2000).unref();
}
