/**
 * `startAggregator`: the secure-aggregation aggregator as an HTTPS service with mutual TLS
 * (the transit helpers: TLS 1.3, client certificates from the pipeseal CA, SPIFFE patterns as
 * the data gateway matches them). Rounds are created by the first party that asks for their
 * id and run by `RoundRunner`; each round's end is audited — one `secagg.member` record per
 * party (how far it got), one `secagg.round` record (counts, threshold, result digest or
 * abort) — and refusals are audited as `secagg.refuse`. No party's vector is written
 * anywhere: masked vectors go into the round's running sum as they arrive.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { AuditEvent } from "../audit/types.js";
import { UsageError, httpStatusOf, isErrorCode, isPipesealError } from "../errors.js";
import { compileIdentityPattern, identityMatches, type IdentityPattern } from "../gateway/identity-pattern.js";
import { listenError } from "../io/listen-error.js";
import { REJECT_HEADER } from "../pki/mtls/errors.js";
import type { MtlsServerOptions } from "../pki/mtls/gate.js";
import type { CertSource } from "../pki/mtls/material.js";
import { type MtlsServer, createMtlsServer } from "../pki/mtls/server.js";
import { ROUND_ID, type RoundConfig, checkConfig } from "./config.js";
import { SecaggError } from "./errors.js";
import { loadIdentity } from "./identity.js";
import type { AggregatorRound, RoundSummary } from "./round.js";
import { RoundRunner, type Timing } from "./runner.js";
import { b64, parseAdvertisement, parseConsistency, parseShares, parseUnmaskResponse } from "./wire.js";

/** The parameters every round of this aggregator uses (the round id comes from the parties). */
export type RoundTemplate = Omit<RoundConfig, "v" | "round">;

export interface AggregatorOptions {
  /** The aggregator's certificate folder (or inline PEM) and TLS settings. */
  readonly tls: CertSource & Pick<MtlsServerOptions, "minVersion" | "crl" | "pin" | "watch">;
  /** SPIFFE patterns of the parties (`*` may stand inside the env or service part). */
  readonly parties: readonly string[];
  /** SPIFFE patterns that may read results besides the round's own parties (e.g. the trainer). */
  readonly readers?: readonly string[];
  readonly round: RoundTemplate;
  /** Where audit records go (the local keystore's `appendAuditEvent`); throws when it cannot record. */
  readonly audit: (event: AuditEvent) => void;
  readonly timing?: Partial<Timing>;
  /** Longest a long-poll is held before the client asks again; default 20 s. */
  readonly pollMs?: number;
  /** Rounds kept in memory (finished ones stay, so their ids cannot be run again); default 1000. */
  readonly maxRounds?: number;
  readonly now?: () => number;
  readonly log?: (e: { level: "info" | "warn" | "error"; msg: string; round?: string; principal?: string; code?: string }) => void;
}

export interface Aggregator {
  readonly url: string;
  readonly address: AddressInfo;
  readonly mtls: MtlsServer<HttpsServer>;
  /** Summaries of the rounds in memory (membership per step, result digest, abort). */
  rounds(): RoundSummary[];
  /** The round by id (tests, embedding services). */
  round(id: string): AggregatorRound | undefined;
  close(): Promise<void>;
}

export const SECAGG_MEMBER = "secagg.member";
export const SECAGG_ROUND = "secagg.round";
export const SECAGG_REFUSE = "secagg.refuse";
export const SECAGG_RESULT_READ = "secagg.result-read";

const JSON_LIMIT = 8 * 1024 * 1024;
/** The codes the aggregator answers with, at the registry's status (src/error-registry.ts); anything else is a 500. */
const ANSWERED = new Set<string>([
  "SECAGG_PROTOCOL",
  "INVALID_ARGUMENT",
  "SECAGG_ABORTED",
  "SECAGG_PENDING",
  "NOT_FOUND",
  "PAYLOAD_TOO_LARGE",
  "ACCESS_DENIED",
]);
const statusOf = (code: string): number => (ANSWERED.has(code) && isErrorCode(code) ? httpStatusOf(code) : 500);

class HttpError extends SecaggError {}

/**
 * @example
 * const agg = await startAggregator({ tls: { certDir: "certs/aggregator" }, parties: ["spiffe://acme.ml/*\/hospital-*"],
 *   round: { dim: 100_000, threshold: 6, minParties: 8, maxParties: 11, graph: "full", neighbours: 0, quantization: DEFAULT_QUANTIZATION },
 *   audit: (e) => ks.appendAuditEvent(e) }, { port: 9555 });
 * @throws UsageError(INVALID_ARGUMENT) for bad patterns; SecaggError(SECAGG_PROTOCOL) for a round template that breaks the rules of docs/secagg.md;
 *   PipesealError(CERT_MALFORMED | CERT_NOT_FOUND | LISTEN_FAILED).
 */
export async function startAggregator(options: AggregatorOptions, listen: { port?: number; host?: string } = {}): Promise<Aggregator> {
  const parties = options.parties.map((p) => compileIdentityPattern(p, "--parties"));
  const readers = (options.readers ?? []).map((p) => compileIdentityPattern(p, "--readers"));
  if (!parties.length) throw new UsageError("INVALID_ARGUMENT", "the aggregator needs --parties patterns");
  checkConfig({ v: 1, round: "template", ...options.round });
  const me = loadIdentity(options.tls);
  const timing: Timing = { joinWindowMs: 5_000, joinTimeoutMs: 600_000, stepTimeoutMs: 60_000, ...options.timing };
  const pollMs = options.pollMs ?? 20_000;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const runners = new Map<string, RoundRunner>();
  const matches = (list: readonly IdentityPattern[], id: string) => list.some((p) => identityMatches(p, id));

  const audit = (e: Omit<AuditEvent, "principal"> & { principal?: string }) => {
    try {
      options.audit({ principal: me.spiffeId, ...e });
    } catch (err) {
      log({ level: "error", msg: "could not write an audit record", code: isPipesealError(err) ? err.code : "INTERNAL" });
      throw err;
    }
  };
  const onEnd = (r: AggregatorRound) => {
    const s = r.summary();
    for (const p of s.advertised) {
      const reached = s.unmasked.includes(p)
        ? "unmask"
        : s.signed.includes(p)
          ? "consistency"
          : s.masked.includes(p)
            ? "mask"
            : s.shared.includes(p)
              ? "share"
              : "advertise";
      const included = s.step === "done" && r.result!.included.includes(p);
      audit({
        operation: SECAGG_MEMBER,
        principal: p,
        outcome: "ok",
        objectPath: `secagg/${s.round}`,
        context: { round: s.round, lastStep: reached, input: included ? "included" : "not-included" },
      });
    }
    const counts = {
      advertised: String(s.advertised.length),
      shared: String(s.shared.length),
      masked: String(s.masked.length),
      signed: String(s.signed.length),
      unmasked: String(s.unmasked.length),
    };
    audit({
      operation: SECAGG_ROUND,
      outcome: s.step === "done" ? "ok" : "error",
      objectPath: `secagg/${s.round}`,
      ...(s.abort ? { errorCode: "SECAGG_ABORTED" } : {}),
      context: {
        round: s.round,
        graph: s.graph,
        threshold: String(s.threshold),
        dim: String(s.dim),
        ...counts,
        ...(s.consistencyDigest ? { consistencySha256: s.consistencyDigest } : {}),
        ...(s.resultDigest ? { resultSha256: s.resultDigest } : {}),
        ...(s.abort ? { abortedAt: s.abort.step, reason: s.abort.message.slice(0, 200) } : {}),
      },
    });
    log({
      level: s.step === "done" ? "info" : "warn",
      msg: s.step === "done" ? `round ${s.round} done: ${s.masked.length} inputs summed` : `round ${s.round} aborted: ${s.abort?.message}`,
      round: s.round,
    });
  };

  const runnerFor = (id: string, create: boolean): RoundRunner => {
    if (!ROUND_ID.test(id)) throw new HttpError("SECAGG_PROTOCOL", "a round id is 1-64 characters of A-Z a-z 0-9 . _ -");
    let r = runners.get(id);
    if (!r) {
      if (!create) throw new HttpError("NOT_FOUND", `no round ${id}`);
      if (runners.size >= (options.maxRounds ?? 1000)) {
        const oldest = [...runners].find(([, x]) => x.reached("done"));
        if (!oldest) throw new HttpError("SECAGG_PROTOCOL", "too many rounds are running");
        runners.delete(oldest[0]);
      }
      r = new RoundRunner({ config: { v: 1, round: id, ...options.round }, caPem: me.caPem, now }, timing, onEnd);
      runners.set(id, r);
    }
    return r;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, peer: string): Promise<void> => {
    const m = /^\/v1\/secagg\/rounds\/([^/]+)\/([a-z-]+)$/.exec(new URL(req.url ?? "/", "https://x").pathname);
    if (!m) throw new HttpError("NOT_FOUND", "no such route");
    const [, id, what] = m as unknown as [string, string, string];
    const get = req.method === "GET";
    const post = req.method === "POST";
    const member = matches(parties, peer);
    if (what === "result" && get) {
      const r = runnerFor(id, false);
      if (!member && !matches(readers, peer)) return forbid(res, peer);
      if (member && !matches(readers, peer) && !r.round.isMember(peer)) return forbid(res, peer);
      if (!(await r.wait("done", pollMs))) return send(res, 204);
      const err = r.round.abortError;
      if (err) throw err;
      const out = r.round.result!;
      audit({ operation: SECAGG_RESULT_READ, principal: peer, outcome: "ok", objectPath: `secagg/${id}`, context: { round: id, resultSha256: out.digest } });
      return sendJson(res, {
        round: id,
        included: out.included,
        dim: out.sum.length,
        digest: out.digest,
        errorBound: out.errorBound,
        sum: b64(Buffer.from(out.sum.buffer, out.sum.byteOffset, out.sum.byteLength)),
      });
    }
    if (!member) return forbid(res, peer);
    const r = runnerFor(id, what === "config" && get);
    const round = r.round;
    if (what === "config" && get) return sendJson(res, round.config);
    if (what === "advertise" && post) {
      const body = parseAdvertisement(await readJson(req));
      r.accept(() => round.advertise(peer, body));
      return send(res, 202);
    }
    if (what === "roster" && get) return poll(r, "share", res, () => round.roster());
    if (what === "shares" && post) {
      const body = parseShares(await readJson(req));
      r.accept(() => round.shares(peer, body));
      return send(res, 202);
    }
    if (what === "inbox" && get) return poll(r, "mask", res, () => round.inbox(peer));
    if (what === "masked" && post) {
      const body = await readBody(req, round.config.dim * 4);
      try {
        r.accept(() => round.masked(peer, body));
      } finally {
        body.fill(0); // the vector lives on only inside the running sum
      }
      return send(res, 202);
    }
    if (what === "consistency" && get) return poll(r, "consistency", res, () => round.consistencyRequest(peer));
    if (what === "consistency" && post) {
      const body = parseConsistency(await readJson(req));
      r.accept(() => round.consistency(peer, body));
      return send(res, 202);
    }
    if (what === "unmask" && get) return poll(r, "unmask", res, () => round.unmaskRequest(peer));
    if (what === "unmask" && post) {
      const body = parseUnmaskResponse(await readJson(req));
      r.accept(() => round.unmask(peer, body));
      return send(res, 202);
    }
    throw new HttpError("NOT_FOUND", "no such route");
  };

  const poll = async (r: RoundRunner, step: Parameters<RoundRunner["wait"]>[0], res: ServerResponse, answer: () => unknown): Promise<void> => {
    if (!(await r.wait(step, pollMs))) return send(res, 204);
    const err = r.round.abortError;
    if (err) throw err;
    return sendJson(res, answer());
  };

  const mtls = createMtlsServer({ ...options.tls, allow: [...new Set([...parties, ...readers].map((p) => p.gate))] } as MtlsServerOptions, (req, res, peer) => {
    handle(req, res, peer.spiffeId).catch((e: unknown) => {
      const code = isPipesealError(e) ? e.code : "INTERNAL";
      if (code === "SECAGG_PROTOCOL") {
        try {
          audit({
            operation: SECAGG_REFUSE,
            principal: peer.spiffeId,
            outcome: "denied",
            errorCode: code,
            objectPath: req.url?.slice(0, 200) ?? null,
            context: { reason: (e as Error).message.slice(0, 200) },
          });
        } catch {
          // logged by audit()
        }
      }
      log({ level: code === "INTERNAL" ? "error" : "warn", msg: isPipesealError(e) ? e.message : "request failed", principal: peer.spiffeId, code });
      if (res.headersSent) return void res.destroy();
      sendJson(
        res,
        { error: { code: code === "INTERNAL" ? "UNAVAILABLE" : code, message: isPipesealError(e) ? e.message : "internal error" } },
        statusOf(code),
      );
    });
  });
  mtls.on("peerRejected", (e) => {
    try {
      audit({
        operation: SECAGG_REFUSE,
        principal: e.identity ?? "unauthenticated",
        outcome: "denied",
        errorCode: "CERT_REJECTED",
        context: { reason: e.reason, ...(e.remoteAddress ? { remoteAddress: e.remoteAddress } : {}) },
      });
    } catch {
      // logged by audit()
    }
    log({ level: "warn", msg: `peer refused: ${e.reason}`, ...(e.identity ? { principal: e.identity } : {}) });
  });
  const server = mtls.server;
  server.requestTimeout = 0; // long-polls are held up to pollMs
  server.headersTimeout = 10_000;
  const [host, port] = [listen.host ?? "127.0.0.1", listen.port ?? 0];
  const address = await mtls.listen(port, host).catch(async (e: unknown) => {
    await mtls.close().catch(() => undefined);
    throw listenError(e, host, port);
  });
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `https://${shown}:${address.port}`,
    address,
    mtls,
    rounds: () => [...runners.values()].map((r) => r.round.summary()),
    round: (id) => runners.get(id)?.round,
    async close() {
      for (const r of runners.values()) {
        if (!r.reached("done")) r.abort("the aggregator stopped");
        r.stop();
      }
      const closing = mtls.close();
      server.closeAllConnections();
      await closing;
    },
  };

  /** A peer the TLS gate let in (its widened pattern) but no exact pattern admits: refused as the gate refuses, and audited. */
  function forbid(res: ServerResponse, peer: string): void {
    try {
      audit({ operation: SECAGG_REFUSE, principal: peer, outcome: "denied", errorCode: "CERT_REJECTED", context: { reason: "identity-not-allowed" } });
    } catch {
      // logged by audit()
    }
    res.writeHead(403, { [REJECT_HEADER]: "CERT_REJECTED", "content-length": 0, connection: "close" });
    res.end();
  }
}

function send(res: ServerResponse, status: number): void {
  res.writeHead(status, { "content-length": 0 });
  res.end();
}

function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": text.length });
  res.end(text);
}

async function readBody(req: IncomingMessage, exact: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared !== exact) {
    req.resume();
    throw new HttpError("SECAGG_PROTOCOL", `a masked vector of this round is exactly ${exact} bytes`);
  }
  const out = Buffer.alloc(exact);
  let at = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (at + chunk.length > exact) throw new HttpError("SECAGG_PROTOCOL", `a masked vector of this round is exactly ${exact} bytes`);
    chunk.copy(out, at);
    at += chunk.length;
  }
  if (at !== exact) throw new HttpError("SECAGG_PROTOCOL", "the masked vector was cut short");
  return out;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > JSON_LIMIT) throw new HttpError("PAYLOAD_TOO_LARGE", "the message is too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError("SECAGG_PROTOCOL", "the message is not JSON");
  }
}
