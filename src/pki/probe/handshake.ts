/**
 * One real TLS connection to the target, with chosen versions, ciphers, trust store and client
 * certificate, and what was observed: how far it got, what was negotiated, what the peer sent.
 * Never rejects: failures are data the probe interprets.
 */
import net from "node:net";
import tls, { type DetailedPeerCertificate } from "node:tls";
import type { TlsVersion } from "./types.js";

export interface HandshakeRequest {
  address: string;
  port: number;
  servername: string | null;
  timeoutMs: number;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  ciphers?: string;
  /** "system": Node's root store; "none": an empty store (so the chain is exactly what the server sent); else PEM texts. */
  trust: "system" | "none" | string[];
  clientCert?: { cert: string; key: string };
  /** After the handshake, send a tiny HTTP request and wait for the first answer or alert. */
  read?: { host: string; waitMs: number };
}

export type Phase = "connect" | "handshake" | "read";

export interface HandshakeOutcome {
  /** TCP connected. */
  connected: boolean;
  /** The client's handshake finished (secureConnect). Under TLS 1.3 the server may still refuse after this. */
  secure: boolean;
  bytesWritten: number;
  bytesRead: number;
  protocol: string | null;
  cipher: { name: string; standardName: string } | null;
  ephemeralKey: string | null;
  alpn: string | null;
  /** OpenSSL's chain verdict against `trust`, when the handshake finished. */
  authorized: boolean | null;
  authorizationError?: string;
  /** Leaf-first chain; with trust "none" exactly the certificates the server sent. */
  chain: Buffer[];
  leaf: DetailedPeerCertificate | null;
  /** What came back after the request: application bytes, an orderly close, or nothing in time. */
  reply?: "data" | "closed" | "silent";
  firstLine?: string;
  /** The first bytes of the answer (up to 1 KiB), for reading a status line and headers. */
  head?: string;
  error?: { code: string; reason: string; phase: Phase };
  timedOut: boolean;
}

function peerChain(socket: tls.TLSSocket): { chain: Buffer[]; leaf: DetailedPeerCertificate | null } {
  let cert: DetailedPeerCertificate | undefined;
  try {
    cert = socket.getPeerCertificate(true);
  } catch {
    return { chain: [], leaf: null };
  }
  if (!cert || !cert.raw) return { chain: [], leaf: null };
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = cert; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(c.raw);
  }
  return { chain, leaf: cert };
}

function errorOf(e: unknown, phase: Phase): NonNullable<HandshakeOutcome["error"]> {
  const err = e as NodeJS.ErrnoException & { reason?: string };
  return { code: err.code ?? "UNKNOWN", reason: err.reason ?? err.message.replace(/^[0-9A-F]+:error:[0-9A-F]+:/, ""), phase };
}

/** Opens one connection to `address:port` only, and always resolves within `timeoutMs` (+ the read wait). */
export function handshake(req: HandshakeRequest): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const raw = net.connect({ host: req.address, port: req.port });
    const out: HandshakeOutcome = {
      connected: false,
      secure: false,
      bytesWritten: 0,
      bytesRead: 0,
      protocol: null,
      cipher: null,
      ephemeralKey: null,
      alpn: null,
      authorized: null,
      chain: [],
      leaf: null,
      timedOut: false,
    };
    const socket = tls.connect({
      socket: raw,
      host: req.address,
      ...(req.servername ? { servername: req.servername } : {}),
      ...(req.minVersion ? { minVersion: req.minVersion } : {}),
      ...(req.maxVersion ? { maxVersion: req.maxVersion } : {}),
      ...(req.ciphers ? { ciphers: req.ciphers } : {}),
      ...(req.trust === "system" ? {} : { ca: req.trust === "none" ? [] : req.trust }),
      ...(req.clientCert ?? {}),
      ALPNProtocols: ["h2", "http/1.1"],
      rejectUnauthorized: false, // we report the verdict instead of refusing
      checkServerIdentity: () => undefined, // the name is checked separately, so the chain verdict stays clean
    });
    let done = false;
    let timer = setTimeout(() => finish(undefined, true), req.timeoutMs);
    const finish = (e?: unknown, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      out.bytesWritten = raw.bytesWritten;
      out.bytesRead = raw.bytesRead;
      out.timedOut = timedOut;
      if (!out.secure) Object.assign(out, peerChain(socket)); // the server's certificate may have arrived before the failure
      if (e) out.error = errorOf(e, !out.connected ? "connect" : !out.secure ? "handshake" : "read");
      socket.destroy();
      raw.destroy();
      resolve(out);
    };
    raw.once("connect", () => (out.connected = true));
    raw.on("error", (e) => finish(e));
    socket.on("error", (e) => finish(e));
    socket.once("close", () => {
      if (out.secure) {
        out.reply ??= "closed";
        finish();
      } else finish(Object.assign(new Error("the server closed the connection"), { code: "ECONNCLOSED" }));
    });
    socket.once("secureConnect", () => {
      out.secure = true;
      out.protocol = socket.getProtocol();
      const c = socket.getCipher();
      out.cipher = { name: c.name, standardName: c.standardName };
      const ek = socket.getEphemeralKeyInfo();
      out.ephemeralKey = ek && "type" in ek && ek.type ? `${ek.type}${ek.name ? ` ${ek.name}` : ""}${ek.size ? ` (${ek.size} bits)` : ""}` : null;
      out.alpn = socket.alpnProtocol || null;
      out.authorized = socket.authorized;
      if (socket.authorizationError) out.authorizationError = String(socket.authorizationError);
      Object.assign(out, peerChain(socket));
      if (!req.read) return finish();
      // TLS 1.3: the server checks our (missing) certificate after our handshake is done, so its
      // certificate_required alert (RFC 8446 §4.4.2.4) only shows on the first read.
      clearTimeout(timer);
      timer = setTimeout(() => {
        out.reply = "silent";
        finish();
      }, req.read.waitMs);
      socket.once("data", (d: Buffer) => {
        out.reply = "data";
        out.head = d.subarray(0, 1024).toString("latin1");
        const line = out.head.split("\r\n")[0];
        if (line.startsWith("HTTP/")) out.firstLine = line;
        finish();
      });
      if (out.alpn !== "h2") socket.write(`HEAD / HTTP/1.1\r\nHost: ${req.read.host}\r\nConnection: close\r\n\r\n`);
    });
  });
}
