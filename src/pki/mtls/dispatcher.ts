/**
 * `createMtlsDispatcher`: an undici Agent that presents our client certificate and accepts
 * only servers from our CA whose name matches the URL and whose SPIFFE ID we expect.
 */
import { X509Certificate } from "node:crypto";
import { type PeerCertificate, checkServerIdentity } from "node:tls";
import { Agent } from "undici";
import { TransitError } from "./errors.js";
import { type CertMaterial, type CertSource, checkCrl, loadMaterial } from "./material.js";
import { type PinOptions, checkAllowList, checkPins, judgePeer } from "./peer.js";
import { type MinTlsVersion, checkMinVersion } from "./tls-version.js";

export type MtlsClientOptions = CertSource & {
  /** SPIFFE ID patterns of the servers this client may talk to (`*` for any env or service). */
  readonly expect: readonly string[];
  /** Protocol floor: "TLSv1.3" (default) or "TLSv1.2"; anything lower is refused. */
  readonly minVersion?: MinTlsVersion;
  readonly pin?: PinOptions;
  /** PEM CRL(s); servers whose certificate is listed are refused. */
  readonly crl?: string | Buffer;
  /** SNI and hostname to verify, when it differs from the URL's host. */
  readonly servername?: string;
  /** TLS session cache size (undici default 100; 0 forces a full handshake per connection). */
  readonly maxCachedSessions?: number;
  /** Other undici Agent options (pool size, timeouts, keep-alive). */
  readonly agent?: Omit<Agent.Options, "connect">;
};

/** @internal validated client settings, reused by the reloading dispatcher. */
export interface ClientPlan {
  readonly expect: readonly string[];
  readonly minVersion: MinTlsVersion;
  readonly pin: PinOptions | undefined;
  readonly crl: string | undefined;
  readonly options: MtlsClientOptions;
}

/** @internal */
export function planClient(options: MtlsClientOptions): ClientPlan {
  const minVersion = checkMinVersion(options.minVersion);
  const expect = checkAllowList(options.expect, "expect");
  checkPins(options.pin);
  const crl = options.crl === undefined ? undefined : checkCrl(options.crl);
  return { expect, minVersion, pin: options.pin, crl, options };
}

/** @internal builds an Agent from already-loaded material. */
export function agentFor(plan: ClientPlan, m: CertMaterial): Agent {
  const { options, expect, pin } = plan;
  const agent = new Agent({
    ...options.agent,
    connect: {
      cert: m.cert,
      key: m.key,
      ca: m.ca,
      minVersion: plan.minVersion,
      maxVersion: "TLSv1.3",
      rejectUnauthorized: true,
      ...(plan.crl ? { crl: plan.crl } : {}),
      ...(options.servername ? { servername: options.servername } : {}),
      ...(options.maxCachedSessions !== undefined ? { maxCachedSessions: options.maxCachedSessions } : {}),
      checkServerIdentity: serverCheck(expect, pin),
    },
  });
  OWN.set(agent, new X509Certificate(m.cert));
  return agent;
}

/**
 * Runs after OpenSSL verified chain, validity and (if configured) revocation: the host name
 * and the server's SPIFFE ID. An Error returned aborts the handshake and reaches the caller
 * as the request's error.
 */
function serverCheck(expect: readonly string[], pin: PinOptions | undefined): (hostname: string, cert: PeerCertificate) => Error | undefined {
  return (hostname, cert) => {
    const nameErr = checkServerIdentity(hostname, cert);
    if (nameErr) return new TransitError("CERT_REJECTED", "hostname-mismatch", "local", nameErr.message, { cause: nameErr });
    const v = judgePeer(cert, expect, pin);
    if (v.ok) return undefined;
    const who = v.identity ? `server identity ${v.identity}` : "server certificate";
    const why =
      v.reason === "identity-not-allowed" ? "is not expected" : v.reason === "pin-mismatch" ? "does not match the pins" : "carries no single SPIFFE ID";
    return new TransitError("CERT_REJECTED", v.reason, "local", `${who} ${why}`);
  };
}

/**
 * An undici Agent that checks the server exactly as {@link createMtlsDispatcher} does (CA,
 * validity, host name, SPIFFE ID in `expect`, TLS 1.3) but presents no client certificate:
 * for a caller that authenticates with a bearer token to a service that allows it.
 * @throws UsageError(INVALID_ARGUMENT) for a bad `expect`; PipesealError(CERT_NOT_FOUND / CERT_MALFORMED) for an unusable CA file.
 */
export function createServerAuthDispatcher(options: {
  readonly ca: string | Buffer;
  readonly expect: readonly string[];
  readonly agent?: Omit<Agent.Options, "connect">;
}): Agent {
  const expect = checkAllowList(options.expect, "expect");
  return new Agent({
    ...options.agent,
    connect: { ca: options.ca, minVersion: "TLSv1.3", maxVersion: "TLSv1.3", rejectUnauthorized: true, checkServerIdentity: serverCheck(expect, undefined) },
  });
}

/**
 * Creates an undici Agent for `fetch(url, { dispatcher })` that does mTLS with the
 * certificate in `certDir` (or inline PEM).
 *
 * Security guarantees: requests go out only over TLS 1.3 (1.2 by option) to a server whose
 * chain ends at `ca.pem`, whose certificate is valid now, names the URL's host (RFC 6125
 * via node's checkServerIdentity), carries one SPIFFE ID matched by `expect`, and meets
 * the pins. Failures surface as `TransitError` (CERT_REJECTED / TLS_CONNECT_FAILED) when
 * using `mtlsFetch` or `toTransitError`. The Agent does not reload renewed certificates;
 * use `createReloadingMtlsDispatcher` for long-lived clients.
 *
 * @example
 * ```ts
 * const dispatcher = createMtlsDispatcher({ certDir: "certs/trainer", expect: ["spiffe://acme/prod/feature-store"] });
 * const res = await fetch("https://feature-store.internal:8443/v1/features", { dispatcher });
 * ```
 * @throws UsageError(INVALID_ARGUMENT) for a bad `expect`, pin or `minVersion`;
 *   PipesealError(CERT_MALFORMED / CERT_NOT_FOUND) for unusable or missing files.
 */
export function createMtlsDispatcher(options: MtlsClientOptions): Agent {
  const plan = planClient(options);
  return agentFor(plan, loadMaterial(options));
}

const OWN = new WeakMap<object, X509Certificate>();

/** @internal the client certificate a dispatcher made here presents (for error diagnosis). */
export function ownCertOf(dispatcher: object): X509Certificate | undefined {
  const d = dispatcher as { current?: object };
  return OWN.get(dispatcher) ?? (d.current ? OWN.get(d.current) : undefined);
}
