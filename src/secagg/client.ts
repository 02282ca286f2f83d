/**
 * `SecaggClient`: a party of secure aggregation over mTLS to a pipeseal aggregator. `submit`
 * runs a whole round; `session` gives the steps one at a time (an embedding service that
 * wants its own timing, or a test that drops out at a chosen step). Every answer of the
 * aggregator goes through `Party`'s checks before anything is sent back.
 */
import type { Dispatcher } from "undici";
import { ERROR_CODES, type ErrorCode, PipesealError, UsageError } from "../errors.js";
import { compileIdentityPattern, identityMatches } from "../gateway/identity-pattern.js";
import { createMtlsDispatcher } from "../pki/mtls/dispatcher.js";
import { mtlsFetch } from "../pki/mtls/fetch.js";
import type { CertSource } from "../pki/mtls/material.js";
import { parseSpiffeId } from "../pki/identity.js";
import { ROUND_ID, type RoundConfig, parseConfig } from "./config.js";
import { SecaggError } from "./errors.js";
import { type PartyIdentity, loadIdentity } from "./identity.js";
import { Party } from "./party.js";
import { wordsToBytes } from "./prg.js";
import { parseAdvertisement, parseConsistencyRequest, parseInbox, parseUnmaskRequest, obj, list, unb64, type Roster } from "./wire.js";

export interface SecaggClientOptions {
  /** `https://host:port` of the aggregator. */
  readonly server: string;
  /** This party's certificate folder (or inline PEM). */
  readonly tls: CertSource;
  /** SPIFFE patterns the aggregator's certificate must match (default: any identity of our trust domain). */
  readonly expect?: readonly string[];
  /** SPIFFE patterns every other party must match (default: any identity our CA certified). */
  readonly peers?: readonly string[];
  readonly minThreshold?: number;
  readonly minNeighbours?: number;
  /** Longest wait for the aggregator to move to the next step; default 10 min. */
  readonly waitMs?: number;
  /** SNI / host name to verify when it differs from the URL's host. */
  readonly servername?: string;
}

export interface SubmitReport {
  readonly round: string;
  readonly party: string;
  readonly parties: number;
  /** Bytes of request bodies this party sent (advertisement, shares, masked vector, consistency signature, unmasking). */
  readonly bytesSent: number;
}

export interface RoundResultView {
  readonly round: string;
  readonly included: readonly string[];
  readonly sum: Float64Array;
  readonly digest: string;
  readonly errorBound: number;
}

/**
 * A party's client.
 *
 * Security guarantees: talks only TLS 1.3 to an aggregator whose certificate chains to our CA
 * and matches `expect`; checks every roster, inbox and unmasking request as `Party` does
 * (signed advertisements of this round only, never both shares of a peer, one unmasking per
 * round, at least t survivors, at least t signatures over the one survivor set it signed)
 * before sending anything back; the input leaves only masked.
 *
 * @example
 * ```ts
 * const c = new SecaggClient({ server: "https://agg.internal:9555", tls: { certDir: "certs/hospital-3" } });
 * await c.submit("r42", update);            // Float32Array of the round's dim
 * const { sum } = await c.result("r42");
 * await c.close();
 * ```
 * @throws SecaggError (SECAGG_ABORTED | SECAGG_PROTOCOL | SECAGG_UNSAFE_REQUEST | SECAGG_INCONSISTENT | SECAGG_PENDING), TransitError (CERT_REJECTED | TLS_CONNECT_FAILED)
 */
export class SecaggClient {
  readonly identity: PartyIdentity;
  readonly #o: SecaggClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #base: string;

  constructor(options: SecaggClientOptions) {
    this.#o = options;
    this.identity = loadIdentity(options.tls);
    const td = parseSpiffeId(this.identity.spiffeId).trustDomain;
    this.#dispatcher = createMtlsDispatcher({
      ...options.tls,
      expect: options.expect ?? [`spiffe://${td}/*/*`],
      ...(options.servername ? { servername: options.servername } : {}),
    });
    this.#base = options.server.replace(/\/+$/, "");
  }

  /** A party for one round, step by step. */
  session(round: string): SecaggSession {
    if (!ROUND_ID.test(round)) throw new UsageError("INVALID_ARGUMENT", "a round id is 1-64 characters of A-Z a-z 0-9 . _ -");
    const peers = this.#o.peers?.map((p) => compileIdentityPattern(p, "--peers"));
    const party = new Party({
      identity: this.identity,
      ...(peers ? { peers: (id: string) => peers.some((p) => identityMatches(p, id)) } : {}),
      ...(this.#o.minThreshold !== undefined ? { minThreshold: this.#o.minThreshold } : {}),
      ...(this.#o.minNeighbours !== undefined ? { minNeighbours: this.#o.minNeighbours } : {}),
    });
    return new SecaggSession(this, party, round);
  }

  /** Takes part in `round` with `vector` (length = the round's dim). @throws SecaggError, TransitError */
  async submit(round: string, vector: ArrayLike<number>): Promise<SubmitReport> {
    const s = this.session(round);
    await s.advertise(vector.length);
    await s.shareKeys();
    await s.sendMasked(vector);
    await s.signSurvivors();
    await s.unmask();
    return { round, party: this.identity.spiffeId, parties: s.parties, bytesSent: s.bytesSent };
  }

  /** The released sum of a round (waits up to `waitMs` for it). @throws SecaggError(SECAGG_ABORTED | SECAGG_PENDING | NOT_FOUND) */
  async result(round: string, waitMs = this.#o.waitMs ?? 600_000): Promise<RoundResultView> {
    const o = obj(await this.poll(`${round}/result`, waitMs), "result");
    const sum = unb64(o.sum, "sum");
    return {
      round,
      included: list(o.included, "included").map(String),
      sum: new Float64Array(sum.buffer.slice(sum.byteOffset, sum.byteOffset + sum.byteLength)),
      digest: String(o.digest),
      errorBound: Number(o.errorBound),
    };
  }

  /** @internal */
  async call(
    path: string,
    init: { method: "GET" | "POST"; json?: unknown; bytes?: Uint8Array } = { method: "GET" },
  ): Promise<{ status: number; body: unknown; sent: number }> {
    const body = init.json !== undefined ? Buffer.from(JSON.stringify(init.json)) : init.bytes;
    const res = await mtlsFetch(this.#dispatcher, `${this.#base}/v1/secagg/rounds/${path}`, {
      method: init.method,
      ...(body ? { body, headers: { "content-type": init.json !== undefined ? "application/json" : "application/octet-stream" } } : {}),
    });
    const text = res.status === 204 ? "" : await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new SecaggError("SECAGG_PROTOCOL", `the aggregator answered ${res.status} with a body that is not JSON`);
      }
    }
    if (res.status >= 400) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code = err?.code && err.code in ERROR_CODES ? (err.code as ErrorCode) : "UNAVAILABLE";
      const message = `the aggregator refused: ${String(err?.message ?? res.status).slice(0, 300)}`;
      throw new PipesealError(code, message); // the registry picks the class (a SecaggError for SECAGG_*)
    }
    return { status: res.status, body: parsed, sent: body?.length ?? 0 };
  }

  /** @internal GET until the aggregator answers with content (it holds each request up to its poll time). */
  async poll(path: string, waitMs = this.#o.waitMs ?? 600_000): Promise<unknown> {
    const until = Date.now() + waitMs;
    for (;;) {
      const r = await this.call(path);
      if (r.status === 200) return r.body;
      if (Date.now() >= until) throw new SecaggError("SECAGG_PENDING", `round step ${path} did not finish within ${Math.round(waitMs / 1000)} s`);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

export class SecaggSession {
  readonly #c: SecaggClient;
  readonly party: Party;
  readonly round: string;
  bytesSent = 0;
  parties = 0;
  config: RoundConfig | undefined;

  constructor(client: SecaggClient, party: Party, round: string) {
    this.#c = client;
    this.party = party;
    this.round = round;
  }

  async #post(what: string, init: { json?: unknown; bytes?: Uint8Array }): Promise<void> {
    const r = await this.#c.call(`${this.round}/${what}`, { method: "POST", ...init });
    this.bytesSent += r.sent;
  }

  /** Round 0: fetch the round's parameters, advertise our keys. With `dim`, a round of another dimension is refused before joining. */
  async advertise(dim?: number): Promise<RoundConfig> {
    const cfg = parseConfig((await this.#c.call(`${this.round}/config`)).body);
    if (cfg.round !== this.round) throw new SecaggError("SECAGG_PROTOCOL", "the aggregator sent the parameters of another round");
    if (dim !== undefined && dim !== cfg.dim) throw new SecaggError("SECAGG_PROTOCOL", `the input has ${dim} values; the round's dimension is ${cfg.dim}`);
    this.config = cfg;
    await this.#post("advertise", { json: this.party.advertise(cfg) });
    return cfg;
  }

  /** Round 1: wait for the roster, verify it, send our encrypted shares. */
  async shareKeys(): Promise<void> {
    const o = obj(await this.#c.poll(`${this.round}/roster`), "roster");
    const roster: Roster = { config: parseConfig(o.config), advertisements: list(o.advertisements, "advertisements").map(parseAdvertisement) };
    this.parties = roster.advertisements.length;
    await this.#post("shares", { json: this.party.shareKeys(roster) });
  }

  /** Round 2: wait for our inbox, send the masked vector. Returns what was sent (the masked words). */
  async sendMasked(vector: ArrayLike<number>): Promise<Uint32Array> {
    const inbox = parseInbox(await this.#c.poll(`${this.round}/inbox`));
    const y = this.party.maskInput(inbox, vector);
    await this.#post("masked", { bytes: wordsToBytes(y) });
    return y;
  }

  /** Round 3 (ConsistencyCheck): wait for the survivor set U3, check it, sign it. */
  async signSurvivors(): Promise<void> {
    const req = parseConsistencyRequest(await this.#c.poll(`${this.round}/consistency`));
    await this.#post("consistency", { json: this.party.signSurvivors(req) });
  }

  /** Round 4: wait for the unmasking request, check it and the signatures over U3, reveal our shares. */
  async unmask(): Promise<void> {
    const req = parseUnmaskRequest(await this.#c.poll(`${this.round}/unmask`));
    await this.#post("unmask", { json: this.party.unmask(req) });
  }
}
