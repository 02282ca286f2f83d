/**
 * `probeTls`: what a TLS endpoint really does, learned from several real handshakes to the one
 * address given: a default handshake with a request, one per protocol version, one with the
 * caller's client certificate, and one plaintext HTTP request.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import tls from "node:tls";
import { PipesealError, UsageError } from "../../errors.js";
import { inferClientAuth, classifyVersion } from "./classify.js";
import { describeCertificate } from "./certificate.js";
import { loadClientCert, loadTrustStore } from "./credentials.js";
import { assessFindings, type Observations } from "./findings.js";
import { handshake, type HandshakeOutcome, type HandshakeRequest } from "./handshake.js";
import { checkPlaintextHttp } from "./plaintext.js";
import { parseTarget } from "./target.js";
import { TLS_VERSIONS, type ProbeOptions, type ProbeReport, type ProbeTarget, type ValidationResult } from "./types.js";

/** The permissive cipher string that lets OpenSSL 3 offer TLS 1.0/1.1 (they need SHA-1, barred from level 1 up). */
export const LEGACY_CIPHERS = "DEFAULT@SECLEVEL=0";
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_TIMEOUT_MS = 60_000;
const MAX_READ_WAIT_MS = 2000;

async function resolveTarget(text: string, servername: string | undefined): Promise<ProbeTarget> {
  const { host, port } = parseTarget(text);
  if (servername !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(servername)) {
    throw new UsageError("INVALID_ARGUMENT", `--servername "${servername.slice(0, 60)}" is not a DNS name`);
  }
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await lookup(host)).address; // resolved once: every connection goes to this one address
    } catch (e) {
      throw new PipesealError("TLS_CONNECT_FAILED", `cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? "error"}`, { cause: e });
    }
  }
  // RFC 6066 §3: SNI carries host names only, never IP literals.
  const sni = servername ?? (isIP(host) ? null : host);
  return { host, port, address, servername: sni, checkedName: servername ?? host };
}

function validation(t: ProbeTarget, trustStore: string, done: HandshakeOutcome | undefined, leafFrom: HandshakeOutcome | undefined): ValidationResult {
  const leaf = leafFrom?.leaf;
  const nameError = leaf ? tls.checkServerIdentity(t.checkedName, leaf) : new Error("no certificate received");
  const name = { checked: t.checkedName, matches: !nameError, ...(nameError ? { error: (nameError as NodeJS.ErrnoException).code ?? nameError.message } : {}) };
  if (!done)
    return { trustStore, trusted: null, error: "no handshake completed (a server that requires a client certificate under TLS 1.2 needs --cert)", name };
  return { trustStore, trusted: done.authorized, ...(done.authorizationError ? { error: done.authorizationError } : {}), name };
}

/**
 * Probes a TLS endpoint and reports protocol versions, cipher, chain, validation, client-certificate
 * policy and plaintext exposure, with findings. Only ever connects to the target's one address.
 *
 * @example
 * const report = await probeTls("https://127.0.0.1:8443", { ca: "certs/ca.pem", expectMtls: true });
 * for (const f of report.findings) console.log(f.severity, f.message);
 * @throws UsageError(INVALID_ARGUMENT) for a malformed target, servername or timeout.
 * @throws UsageError(CERT_MALFORMED) for an unreadable --ca file or client certificate folder.
 * @throws PipesealError(TLS_CONNECT_FAILED) when nothing answers, or what answers does not speak TLS.
 */
export async function probeTls(target: string, options: ProbeOptions = {}): Promise<ProbeReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError("INVALID_ARGUMENT", `timeout must be 1 ms to ${MAX_TIMEOUT_MS / 1000} s`);
  }
  const t = await resolveTarget(target, options.servername);
  const trust = options.ca ? loadTrustStore(options.ca) : "system";
  const trustStore = options.ca ?? "Node's root store";
  const clientCert = options.certDir ? loadClientCert(options.certDir) : undefined;
  const now = options.now ?? new Date();
  const readWaitMs = Math.min(timeoutMs, MAX_READ_WAIT_MS);
  const hostHeader = isIP(t.checkedName) === 6 ? `[${t.checkedName}]` : t.checkedName;
  const base: Omit<HandshakeRequest, "trust"> = { address: t.address, port: t.port, servername: t.servername, timeoutMs };

  const bare = await handshake({ ...base, trust, read: { host: hostHeader, waitMs: readWaitMs } });
  if (!bare.connected)
    throw new PipesealError("TLS_CONNECT_FAILED", `nothing answers at ${t.address}:${t.port}: ${bare.error?.code ?? (bare.timedOut ? "timed out" : "error")}`);

  // One handshake per version, min = max, with an empty trust store so the chain is exactly what was sent.
  const versions = [];
  for (const version of TLS_VERSIONS) {
    const o = await handshake({ ...base, trust: "none", minVersion: version, maxVersion: version, ciphers: LEGACY_CIPHERS });
    versions.push({ version, o });
  }
  const mtls = clientCert ? await handshake({ ...base, trust, clientCert, read: { host: hostHeader, waitMs: readWaitMs } }) : undefined;

  const withChain = [...versions.map((v) => v.o).reverse(), bare, ...(mtls ? [mtls] : [])].find((o) => o.chain.length > 0);
  const plaintextCheck = options.plaintextCheck !== false;
  if (!withChain) {
    const plain = plaintextCheck ? await checkPlaintextHttp(t.address, t.port, hostHeader, readWaitMs) : null;
    const why = plain?.httpStatusLine ? `it answers plaintext HTTP (${plain.httpStatusLine})` : `${bare.error?.code ?? "no certificate received"}`;
    throw new PipesealError("TLS_CONNECT_FAILED", `${t.address}:${t.port} does not complete a TLS handshake: ${why}`);
  }

  const completed = [bare, mtls].find((o) => o?.secure);
  const observations: Observations = {
    target: t,
    probedAt: now.toISOString(),
    handshake: {
      ok: bare.secure, // under TLS 1.3 a server may still refuse right after: see `error`
      protocol: bare.protocol,
      cipher: bare.cipher?.name ?? null,
      cipherStandardName: bare.cipher?.standardName ?? null,
      ephemeralKey: bare.ephemeralKey,
      alpn: bare.alpn,
      ...(bare.error ? { error: bare.error.code } : {}),
    },
    protocols: versions.map(({ version, o }) => classifyVersion(version, o, LEGACY_CIPHERS)),
    chain: withChain.chain.map((der) => describeCertificate(der, now)),
    validation: validation(t, trustStore, completed, withChain),
    clientAuth: inferClientAuth(bare, mtls, readWaitMs),
    plaintext: plaintextCheck ? await checkPlaintextHttp(t.address, t.port, hostHeader, readWaitMs) : { tested: false, httpStatusLine: null },
  };
  return { ...observations, findings: assessFindings(observations, options.expectMtls) };
}
