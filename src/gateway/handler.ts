/**
 * One request: authorize the peer for the path (before any key is touched), resolve it
 * under the root, then answer a folder listing or the object (HEAD, GET, ranges,
 * conditionals) from the principal's open entry.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { inspectFile } from "../envelope/inspect.js";
import { isPipesealError } from "../errors.js";
import type { EncryptionContext } from "../keys/keyring.js";
import type { GatewayBackend } from "./backend.js";
import { type IdentityPattern, identityMatches } from "./identity-pattern.js";
import { listFolder, listingHtml, listingJson } from "./listing.js";
import { GATEWAY_SERVED, type OpenObject, type OpenObjects } from "./objects.js";
import { type GatewayPolicy, decide, mayList } from "./policy.js";
import { parseRange } from "./range.js";
import { type Target, resolveTarget } from "./resolve.js";
import { codeOf, sendError } from "./respond.js";
import { firstStep, sendBody } from "./send.js";
import { ObjectLease, type Piece } from "./lease.js";
import { contentTypeFor, notModified, rangeStillValid, validators } from "./validators.js";

/** The audit operation of a refused request. */
export const GATEWAY_DENY = "gateway.deny";

export interface GatewayLog {
  readonly level: "info" | "warn" | "error";
  readonly msg: string;
  readonly principal?: string;
  readonly path?: string;
  readonly code?: string;
  readonly status?: number;
  readonly bytes?: number;
}

export interface HandlerDeps {
  readonly rootReal: string;
  readonly allow: readonly IdentityPattern[] | undefined;
  readonly policy: GatewayPolicy | undefined;
  readonly backend: GatewayBackend;
  readonly objects: OpenObjects;
  readonly log: (e: GatewayLog) => void;
}

/** Who asks: a certificate's SPIFFE ID, or a verified bearer token's identity (with the token, passed on to the key service). */
export interface Peer {
  readonly principal: string;
  readonly token?: string;
}

export async function handleRequest(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, peer: Peer): Promise<void> {
  const principal = peer.principal;
  res.setHeader("x-content-type-options", "nosniff");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return sendError(res, "INVALID_ARGUMENT", "the gateway serves GET and HEAD only");
  }
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const urlPath = q === -1 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : raw.slice(q + 1));
  if (deps.allow && !deps.allow.some((p) => identityMatches(p, principal))) return deny(deps, res, principal, urlPath, "identity-not-allowed");
  const target = await resolveTarget(deps.rootReal, urlPath);
  if (target.kind === "refused") {
    deps.log({ level: "warn", msg: `refused: ${target.why}`, principal, path: urlPath.slice(0, 200), status: target.status });
    return sendError(
      res,
      target.status === 400 ? "INVALID_ARGUMENT" : "NOT_FOUND",
      target.status === 400 ? "the path is not allowed" : "no sealed object or folder at this path",
    );
  }
  if (target.kind === "dir") return list(deps, req, res, principal, target, urlPath, query.get("format") === "json");
  return serveObject(deps, req, res, peer, target);
}

async function list(
  deps: HandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  principal: string,
  target: Extract<Target, { kind: "dir" }>,
  urlPath: string,
  json: boolean,
): Promise<void> {
  const policy = deps.policy;
  if (policy && !mayList(policy, principal, target.rel)) return deny(deps, res, principal, urlPath, "no-rule");
  const visible = (rel: string, context?: EncryptionContext) =>
    !policy || (context === undefined ? mayList(policy, principal, rel) : decide(policy, principal, rel, context).allow);
  const base = `/${target.rel.split("/").filter(Boolean).map(encodeURIComponent).join("/")}`;
  const listing = await listFolder(deps.rootReal, target.dir, base, visible);
  const body = json ? listingJson(listing) : listingHtml(listing);
  res.writeHead(200, {
    "content-type": json ? "application/json" : "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

async function serveObject(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, peer: Peer, target: Extract<Target, { kind: "file" }>): Promise<void> {
  const principal = peer.principal;
  if (deps.policy) {
    // the context comes from the header alone: the decision is made before any unwrap
    let context: EncryptionContext;
    try {
      context = (await inspectFile(target.file)).context;
    } catch (e) {
      return failOpen(deps, res, principal, target, e);
    }
    const verdict = decide(deps.policy, principal, target.rel, context);
    if (!verdict.allow) return deny(deps, res, principal, `/${target.rel}`, verdict.reason, target.file);
  }
  let entry: OpenObject;
  try {
    entry = await deps.objects.acquire(principal, target.file, target.stats, peer.token);
  } catch (e) {
    return failOpen(deps, res, principal, target, e);
  }
  await respondWithObject(deps, req, res, entry, target.rel);
}

async function respondWithObject(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, entry: OpenObject, rel: string): Promise<void> {
  const size = entry.reader.plaintextLength;
  const v = validators(entry.headerHash, entry.stats.mtimeMs);
  entry.requests++;
  res.setHeader("etag", v.etag);
  res.setHeader("last-modified", v.lastModified);
  res.setHeader("accept-ranges", "bytes");
  res.setHeader("cache-control", "private, no-store"); // plaintext: no shared cache may keep it
  if (notModified(v, header(req, "if-none-match"), header(req, "if-modified-since"))) {
    res.writeHead(304);
    return void res.end();
  }
  const range = rangeStillValid(v, header(req, "if-range")) ? parseRange(header(req, "range"), size) : ({ kind: "none" } as const);
  if (range.kind === "unsatisfiable") {
    res.writeHead(416, { "content-range": `bytes */${size}`, "content-length": 0 });
    return void res.end();
  }
  const start = range.kind === "range" ? range.start : 0;
  const length = range.kind === "range" ? range.end - range.start + 1 : size;
  if (range.kind === "range") {
    entry.ranges++;
    res.setHeader("content-range", `bytes ${range.start}-${range.end}/${size}`);
  }
  res.setHeader("content-type", contentTypeFor(rel));
  res.setHeader("content-length", length);
  const status = range.kind === "range" ? 206 : 200;
  if (req.method === "HEAD" || length === 0) {
    res.writeHead(status);
    return void res.end();
  }
  // a response longer than the window continues under a renewed one (lease.ts), counted there too
  const lease = new ObjectLease(deps.objects, entry, (renewed) => {
    renewed.requests++;
    if (range.kind === "range") renewed.ranges++;
  });
  let first: Piece;
  try {
    first = await firstStep(lease, start, length);
  } catch (e) {
    segmentFailed(deps, lease.entry, rel, e, 0);
    for (const h of ["content-range", "content-type", "content-length", "etag", "last-modified", "accept-ranges"]) res.removeHeader(h);
    return sendError(res, codeOf(e) === "INTERNAL" ? "INTERNAL" : codeOf(e));
  }
  res.writeHead(status);
  const sent = await sendBody(res, lease, start, length, first);
  if (sent.error !== undefined) segmentFailed(deps, lease.entry, rel, sent.error, sent.bytes);
}

/**
 * A segment did not authenticate (or could not be read), or the window could not be renewed
 * past the TTL (the key was destroyed meanwhile, the file replaced): audited, logged, and the
 * object is dropped from memory.
 */
function segmentFailed(deps: HandlerDeps, entry: OpenObject, rel: string, e: unknown, bytes: number): void {
  const code = codeOf(e);
  deps.log({ level: "error", msg: "reading failed while serving; response aborted", principal: entry.principal, path: `/${rel}`, code, bytes });
  try {
    const key = entry.reader.header.wrappedKeys[0];
    deps.backend.record({
      operation: GATEWAY_SERVED,
      principal: entry.principal,
      outcome: "error",
      errorCode: code,
      keyName: key?.keyName ?? null,
      keyVersion: key?.keyVersion ?? null,
      objectPath: entry.file,
      headerHash: entry.headerHash,
      context: { bytes: String(bytes) },
    });
  } catch (err) {
    deps.log({ level: "error", msg: "could not audit a failed segment", code: codeOf(err) });
  }
  deps.objects.evict(entry);
}

/** Opening failed: the keyring has recorded its own refusal (destroyed key …); answer with the typed error. */
function failOpen(deps: HandlerDeps, res: ServerResponse, principal: string, target: Extract<Target, { kind: "file" }>, e: unknown): void {
  const code = codeOf(e);
  deps.log({ level: code === "INTERNAL" ? "error" : "warn", msg: "could not open object", principal, path: `/${target.rel}`, code });
  if (code === "NOT_SEALED") return sendError(res, "NOT_FOUND", "no sealed object or folder at this path");
  sendError(res, code, isPipesealError(e) ? e.message : undefined);
}

/** 403, audited as `gateway.deny` (principal = the peer). */
function deny(deps: HandlerDeps, res: ServerResponse, principal: string, urlPath: string, reason: string, file?: string): void {
  deps.log({ level: "warn", msg: `denied: ${reason}`, principal, path: urlPath.slice(0, 200), status: 403 });
  try {
    deps.backend.record({
      operation: GATEWAY_DENY,
      principal,
      outcome: "denied",
      errorCode: "GATEWAY_DENIED",
      objectPath: file ?? urlPath.slice(0, 1024),
      context: { reason },
    });
  } catch (e) {
    deps.log({ level: "error", msg: "could not audit a denial", principal, code: codeOf(e) });
  }
  sendError(res, "GATEWAY_DENIED");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}
