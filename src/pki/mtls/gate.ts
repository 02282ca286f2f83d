/**
 * The server half of mTLS, independent of the HTTP flavour: the secure-context options, the
 * peer check on every new TLS connection, the refused-peer events and certificate reload.
 * `createMtlsServer` and `mtlsServerOptions` (fastify) are thin shells around it.
 */
import { EventEmitter } from "node:events";
import type { Server as TlsServer, TLSSocket, TlsOptions } from "node:tls";
import { PipesealError, UsageError, isPipesealError } from "../../errors.js";
import { type CrlExpiredPolicy, type RevocationList, trustedCrlIssuers } from "../crl/check.js";
import { CrlSource } from "../crl/source.js";
import { type CertMaterial, type CertSource, certPaths, checkMaterial, loadMaterial } from "./material.js";
import { type PeerIdentity, type PeerVerdict, type PinOptions, type RejectReason, checkAllowList, checkPins, judgePeer, spiffeIdsOf } from "./peer.js";
import { REJECT_HEADER } from "./errors.js";
import { type MinTlsVersion, checkMinVersion } from "./tls-version.js";
import { type FileWatcher, type WatchOptions, watchFiles } from "./watch.js";

/** Options shared by `createMtlsServer` and `mtlsServerOptions`. */
export type MtlsServerOptions = CertSource & {
  /** SPIFFE ID patterns of the clients allowed in (`*` for any env or any service). */
  readonly allow: readonly string[];
  /** Protocol floor: "TLSv1.3" (default) or "TLSv1.2"; anything lower is refused. */
  readonly minVersion?: MinTlsVersion;
  /**
   * PEM CRL(s) given inline (replace with `setCrl`); or use `crlFile`. Each CRL must be signed
   * by a CA this server trusts (`ca.pem`, or the issuing CA in its own `cert.pem`), else
   * CRL_INVALID. With a CRL, every client certificate is checked against the CRL of the CA
   * that issued it (serial and issuer) and a revoked one is refused right after the
   * handshake, before any of its bytes are read (the connection is closed; no answer).
   */
  readonly crl?: string | Buffer;
  /** A CRL file (`pipeseal ca crl -o FILE`), watched and reloaded like the certificates (within 10 s of a change). */
  readonly crlFile?: string;
  /** A CRL past its nextUpdate: `refuse` every certificate of its CA (default), or `warn` (event `crlExpired`) and keep using it. */
  readonly crlExpired?: CrlExpiredPolicy;
  /** Clock in epoch ms for CRL validity (tests). */
  readonly now?: () => number;
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
  /** The refused certificate's serial (lowercase hex), for revocation refusals. */
  readonly serialNumber?: string;
  /** More about the refusal (revocation time and reason, the stale CRL's nextUpdate), never secret. */
  readonly detail?: string;
}

export interface MtlsServerEvents {
  peerRejected: [PeerRejectedEvent];
  /** New connections now get this certificate. */
  certReloaded: [{ serialNumber: string }];
  /** A renewal (or a new CRL) could not be loaded; the previous certificate (or CRL) stays in use. */
  reloadError: [PipesealError];
  /** New connections are now checked against this CRL (open connections of newly revoked peers were closed). */
  crlReloaded: [{ file?: string; revoked: number; nextUpdate: Date; crlNumbers: (number | undefined)[] }];
  /** The CRL in use is past its nextUpdate (once per CRL): `refusing` all its CA's clients, or (crlExpired: warn) still using it. */
  crlExpired: [{ file?: string; issuer: string; nextUpdate: Date; refusing: boolean }];
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
  readonly #crl: CrlSource | undefined;
  #crlWatcher: FileWatcher | undefined;
  readonly #crlWatch: WatchOptions | undefined;
  readonly #staleReported = new WeakSet<RevocationList>();
  /** Open connections that presented a certificate, re-checked when the CRL changes. */
  readonly #open = new Set<TLSSocket>();
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
    this.#source =
      "certDir" in options && typeof options.certDir === "string"
        ? { certDir: options.certDir }
        : { cert: (options as { cert: string }).cert, key: (options as { key: string }).key, ca: (options as { ca: string }).ca };
    this.#material = loadMaterial(this.#source);
    this.#crlWatch = options.watch === false ? undefined : typeof options.watch === "object" ? options.watch : {};
    if (options.crl !== undefined && options.crlFile !== undefined) throw new UsageError("INVALID_ARGUMENT", "give crl or crlFile, not both");
    if (options.crl !== undefined || options.crlFile !== undefined || options.crlExpired !== undefined) {
      if (options.crl === undefined && options.crlFile === undefined) throw new UsageError("INVALID_ARGUMENT", "crlExpired needs crl or crlFile");
      this.#crl = new CrlSource({
        ...(options.crlFile !== undefined ? { file: options.crlFile } : { pem: options.crl! }),
        trusted: () => trustedCrlIssuers(this.#material.ca, this.#material.cert),
        ...(options.crlExpired !== undefined ? { onExpired: options.crlExpired } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
    }
    this.#watchOptions = options.watch === false || !("certDir" in this.#source) ? undefined : options.watch === true || !options.watch ? {} : options.watch;
  }

  /** Options for `tls`/`https`/`http2` server constructors and `setSecureContext`. */
  tlsOptions(): TlsOptions {
    const m = this.#material;
    return {
      cert: m.cert,
      key: m.key,
      ca: m.ca,
      // no OpenSSL `crl`: node would set CRL_CHECK_ALL, demanding a CRL for every CA of the
      // chain (the root never issues one for the issuing CA); verify() checks the leaf instead
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
    const revoked = this.#revocation(socket);
    if (revoked) return revoked;
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
        if (this.#crl) {
          this.#open.add(socket);
          socket.once("close", () => this.#open.delete(socket));
        }
        for (const l of inner) l.call(server, socket);
        return;
      }
      this.#reject(socket, verdict);
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
    if (this.#crl?.file !== undefined && !this.#crlWatcher && this.#crlWatch !== undefined) {
      const debounce = this.#crlWatch.debounceMs;
      this.#crlWatcher = this.#crl.watch(
        (list) => this.#crlChanged(list),
        (e) => this.emit("reloadError", e),
        debounce !== undefined ? { debounceMs: debounce } : {},
      );
    }
  }

  /** Whether the CRL in use lists this certificate serial (no CRL configured: false). */
  revokes(serial: string): boolean {
    return this.#crl?.list.revokes(serial) ?? false;
  }

  /** The revocation refusal of a chain-verified peer, or undefined when it may go on. */
  #revocation(socket: TLSSocket): PeerVerdict | undefined {
    if (!this.#crl) return undefined;
    const cert = socket.getPeerX509Certificate();
    if (!cert) return { ok: false, reason: "no-certificate" };
    const list = this.#crl.list;
    const v = list.check(cert, this.#crl.now(), this.#crl.onExpired);
    const stale = v.ok ? v.expired : v.reason === "crl-expired" ? list.crls.find((c) => c.issuerName === v.issuer) : undefined;
    if (stale && !this.#staleReported.has(list)) {
      this.#staleReported.add(list);
      this.emit("crlExpired", { ...(this.#crl.file ? { file: this.#crl.file } : {}), issuer: stale.issuerName, nextUpdate: stale.nextUpdate, refusing: !v.ok });
    }
    if (v.ok) return undefined;
    const ids = spiffeIdsOf(socket.getPeerCertificate());
    const detail =
      v.reason === "revoked"
        ? `serial ${v.serial} revoked at ${v.revokedAt.toISOString()} (${v.revocationReason}) by "${v.issuer}"`
        : v.reason === "crl-expired"
          ? `the CRL of "${v.issuer}" expired at ${v.nextUpdate.toISOString()}`
          : `no CRL of the CA that issued it ("${v.issuer}")`;
    return { ok: false, reason: v.reason, serialNumber: v.serial, detail, ...(ids.length === 1 ? { identity: ids[0] } : {}) };
  }

  #reject(socket: TLSSocket, verdict: PeerVerdict & { ok: false }): void {
    const { reason, identity, serialNumber, detail } = verdict;
    this.emit("peerRejected", {
      reason,
      ...(identity ? { identity } : {}),
      ...(serialNumber ? { serialNumber } : {}),
      ...(detail ? { detail } : {}),
      ...addr(socket),
    });
    if (REVOCATION.has(reason))
      socket.destroy(); // a revoked certificate gets no answer at all
    else refuse(socket);
  }

  /** A new CRL is in force: open connections of peers it revokes are closed now, not at their next reconnect. */
  #crlChanged(list: RevocationList): void {
    this.emit("crlReloaded", {
      ...(this.#crl?.file ? { file: this.#crl.file } : {}),
      revoked: list.size,
      nextUpdate: list.nextUpdate,
      crlNumbers: list.crls.map((c) => c.crlNumber),
    });
    for (const socket of [...this.#open]) {
      const v = this.#revocation(socket);
      if (!v || v.ok) continue;
      this.#open.delete(socket);
      this.#reject(socket, v);
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

  /**
   * Replaces the CRL (for a server made with `crl` or `crlFile`); open connections of peers
   * it revokes are closed. @throws PipesealError(CERT_MALFORMED | CRL_INVALID), UsageError when no CRL was configured.
   */
  setCrl(crl: string | Buffer): void {
    if (!this.#crl) throw new UsageError("INVALID_ARGUMENT", "this server was made without crl or crlFile; revocation cannot be switched on later");
    this.#crlChanged(this.#crl.set(crl));
  }

  /** Stops watching the cert dir. */
  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#crlWatcher?.close();
    this.#crlWatcher = undefined;
  }
}

const REVOCATION: ReadonlySet<RejectReason> = new Set<RejectReason>(["revoked", "crl-expired", "crl-missing"]);

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
