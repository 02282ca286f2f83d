/**
 * The key-service HTTP client: JSON over mTLS keep-alive connections (undici), typed errors,
 * a per-request timeout, and bounded retries with exponential backoff and full jitter for
 * transient failures (connection refused or reset, timeouts, 503). Never hangs: every attempt
 * has a deadline and the number of attempts is bounded.
 */
import { X509Certificate, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Dispatcher, request } from "undici";
import { PipesealError, UsageError } from "../errors.js";
import { createReloadingMtlsDispatcher } from "../pki/mtls/reloading-dispatcher.js";
import { createServerAuthDispatcher, ownCertOf } from "../pki/mtls/dispatcher.js";
import { REJECT_HEADER, TransitError, toTransitError } from "../pki/mtls/errors.js";
import { KeyServiceError } from "./errors.js";

export interface RetryOptions {
  /** Attempts in all, including the first (default 4). */
  readonly attempts?: number;
  /** First backoff ceiling in ms (default 50); doubles each retry. */
  readonly baseMs?: number;
  /** Largest backoff ceiling in ms (default 2000). */
  readonly maxMs?: number;
}

export interface KeyServiceClientOptions {
  /** https://host:port */
  readonly url: string;
  /** Folder with this client's cert.pem, key.pem, ca.pem. */
  readonly certDir?: string;
  /**
   * Without a certificate: the service CA's ca.pem. Needs `token`, and a service configured
   * with `tokensWithoutCertificate`; the server is checked as with mTLS.
   */
  readonly caFile?: string;
  /** SPIFFE ID patterns the server may present (default: any identity of our trust domain, from cert.pem or the token). */
  readonly expect?: readonly string[];
  /** Bearer token (from POST /v1/tokens) to send with every request. */
  readonly token?: string;
  /** Per-attempt timeout in ms (default 10 s). */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Keep-alive connections per origin (default 16). */
  readonly connections?: number;
  /** An existing dispatcher (tests); the client does not close it. */
  readonly dispatcher?: Dispatcher;
  /** Sees every retry (attempt number, delay, reason). */
  readonly onRetry?: (e: { attempt: number; delayMs: number; reason: string }) => void;
}

const TRANSIENT = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "ABORT_ERR",
]);

function transientCode(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let x: unknown = e; x && !seen.has(x); x = (x as { cause?: unknown }).cause) {
    seen.add(x);
    if (x instanceof TransitError && x.code === "CERT_REJECTED") return undefined;
    const c = (x as { code?: unknown; name?: unknown }).code ?? (x as { name?: unknown }).name;
    if (typeof c === "string" && (TRANSIENT.has(c) || c === "TimeoutError" || c === "AbortError")) return c;
  }
  return undefined;
}

/** Any server identity (env and service wildcards) of our own trust domain (the CA check still applies). */
function sameTrustDomain(certDir: string): string {
  let san: string | undefined;
  try {
    san = new X509Certificate(readFileSync(path.join(certDir, "cert.pem"))).subjectAltName;
  } catch {
    throw new PipesealError("CERT_NOT_FOUND", `no readable cert.pem in ${certDir}`);
  }
  const m = /URI:spiffe:\/\/([^/,\s]+)\//.exec(san ?? "");
  if (!m) throw new PipesealError("CERT_MALFORMED", `${certDir}/cert.pem carries no SPIFFE ID`);
  return `spiffe://${m[1]}/*/*`;
}

/** From the token's `sub`: only picks which server identities to expect (the CA check still applies). */
function tokenTrustDomain(token: string): string {
  let sub: unknown;
  try {
    sub = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { sub?: unknown }).sub;
  } catch {
    sub = undefined;
  }
  const m = typeof sub === "string" ? /^spiffe:\/\/([^/]+)\//.exec(sub) : null;
  if (!m) throw new UsageError("INVALID_ARGUMENT", "the bearer token is malformed (no SPIFFE identity); mint one with `pipeseal token mint` over mTLS");
  return `spiffe://${m[1]}/*/*`;
}

function dispatcherFor(options: KeyServiceClientOptions): Dispatcher {
  const agent = { connections: options.connections ?? 16, keepAliveTimeout: 60_000, pipelining: 1 };
  if (options.certDir !== undefined) {
    if (options.caFile !== undefined)
      throw new UsageError("INVALID_ARGUMENT", "give certDir (mTLS) or caFile (a bearer token without a certificate), not both");
    return createReloadingMtlsDispatcher({ certDir: options.certDir, expect: options.expect ?? [sameTrustDomain(options.certDir)], agent });
  }
  if (options.caFile === undefined)
    throw new UsageError("INVALID_ARGUMENT", "the key service client needs certDir (a folder with cert.pem, key.pem, ca.pem), or caFile and a token");
  if (options.token === undefined)
    throw new UsageError("INVALID_ARGUMENT", "without a client certificate, a bearer token is required (mint one with `pipeseal token mint` over mTLS)");
  let ca: Buffer;
  try {
    ca = readFileSync(options.caFile);
  } catch {
    throw new PipesealError("CERT_NOT_FOUND", `cannot read the CA file ${options.caFile}`);
  }
  return createServerAuthDispatcher({ ca, expect: options.expect ?? [tokenTrustDomain(options.token)], agent });
}

export class KeyServiceClient {
  readonly url: URL;
  readonly #dispatcher: Dispatcher;
  readonly #own: boolean;
  readonly #options: KeyServiceClientOptions;
  #token: string | undefined;

  constructor(options: KeyServiceClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new UsageError("INVALID_ARGUMENT", `--server must be an https:// URL (got ${JSON.stringify(String(options.url).slice(0, 80))})`);
    }
    if (url.protocol !== "https:") throw new UsageError("INVALID_ARGUMENT", "the key service URL must be https://");
    this.url = url;
    this.#options = options;
    this.#token = options.token;
    this.#own = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? dispatcherFor(options);
  }

  set token(t: string | undefined) {
    this.#token = t;
  }

  /**
   * One API call. Retries transient failures (bounded); throws KeyServiceError for a typed
   * refusal, TransitError(CERT_REJECTED) for a refused certificate, TransitError(TLS_CONNECT_FAILED)
   * when the service cannot be reached within the attempts.
   */
  async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return this.#retrying(async () => {
      const res = await this.#send(method, path, body, "application/json");
      return (await readJson(res)) as T;
    });
  }

  /**
   * A GET whose answer is streamed (e.g. /v1/audit/export): retried like `call` until the
   * status line arrives, never after (a half-read stream is not replayed). The body is the
   * caller's to consume; a server failure mid-stream surfaces as an error while reading it.
   * @throws as `call`.
   */
  async stream(path: string, accept: string): Promise<Dispatcher.ResponseData["body"]> {
    return this.#retrying(async () => {
      const res = await this.#send("GET", path, undefined, accept);
      if (res.statusCode >= 400) await readJson(res); // throws the typed error
      return res.body;
    });
  }

  async #retrying<T>(once: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.#options.retry?.attempts ?? 4);
    const base = this.#options.retry?.baseMs ?? 50;
    const max = this.#options.retry?.maxMs ?? 2000;
    let last: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (e) {
        last = e;
        const reason = e instanceof KeyServiceError ? (e.status === 503 ? `503 ${e.serviceCode}` : undefined) : transientCode(e);
        if (reason === undefined || attempt >= attempts) break;
        // full jitter: uniform in [0, min(max, base·2^(attempt−1))]
        const delayMs = randomInt(Math.floor(Math.min(max, base * 2 ** (attempt - 1))) + 1); // randomness from node:crypto only
        this.#options.onRetry?.({ attempt, delayMs, reason });
        await sleep(delayMs);
      }
    }
    if (last instanceof PipesealError) {
      if (last instanceof KeyServiceError || last.code === "CERT_REJECTED") throw last;
    }
    const why = transientCode(last);
    if (why !== undefined) {
      throw new TransitError(
        "TLS_CONNECT_FAILED",
        "handshake-failed",
        "local",
        `the key service at ${this.url.origin} did not answer after ${attempts} attempt(s) (${why})`,
        { cause: last },
      );
    }
    throw last instanceof PipesealError ? last : toTransitError(last, ownCertOf(this.#dispatcher));
  }

  /** Sends one request and waits for the status line and headers (the deadline covers connect + TLS handshake + response head). */
  async #send(method: "GET" | "POST", path: string, body: unknown, accept: string): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // undici's own connect timeout is longer than ours
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const e = new Error(`no answer within ${timeoutMs} ms`);
        e.name = "TimeoutError";
        ac.abort(e);
        reject(e);
      }, timeoutMs);
    });
    let res: Dispatcher.ResponseData;
    try {
      res = await Promise.race([
        request(new URL(path, this.url), {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          dispatcher: this.#dispatcher,
          signal: ac.signal,
        }),
        deadline,
      ]);
    } catch (e) {
      if (transientCode(e) !== undefined) throw e;
      throw toTransitError(e, ownCertOf(this.#dispatcher));
    } finally {
      clearTimeout(timer);
    }
    if (res.statusCode === 403 && res.headers[REJECT_HEADER] === "CERT_REJECTED") {
      await res.body.dump();
      throw new TransitError("CERT_REJECTED", "identity-not-allowed", "remote", "the key service does not allow our identity");
    }
    return res;
  }

  async close(): Promise<void> {
    if (this.#own) await this.#dispatcher.close();
  }
}

/** The JSON body of a response; a typed KeyServiceError for an error status. */
async function readJson(res: Dispatcher.ResponseData): Promise<unknown> {
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new KeyServiceError(res.statusCode, res.statusCode >= 500 ? "UNAVAILABLE" : "INVALID_ARGUMENT", `unreadable response (HTTP ${res.statusCode})`);
  }
  if (res.statusCode >= 400) {
    const err = (json as { error?: { code?: unknown; message?: unknown } }).error;
    throw new KeyServiceError(
      res.statusCode,
      typeof err?.code === "string" ? err.code : "UNAVAILABLE",
      typeof err?.message === "string" ? err.message : `HTTP ${res.statusCode}`,
    );
  }
  return json;
}
