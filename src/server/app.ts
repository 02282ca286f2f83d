/**
 * The key service's fastify app: mTLS identity on every request (the mTLS gate has already
 * refused unknown peers before fastify sees a byte), optional bearer tokens bound to that
 * identity (or, where configured, a bearer token alone for a caller without a certificate),
 * JSON-schema validation with unknown fields refused, typed errors with fixed statuses, and
 * the routes.
 */
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerFactory } from "fastify";
import { identityAllowed } from "../pki/identity.js";
import { peerOf } from "../pki/mtls/gate.js";
import { ServiceError, toWireError } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { accessRequest } from "./authz.js";
import { adminRoutes } from "./routes/admin.js";
import { auditExportRoutes } from "./routes/audit-export.js";
import { auditFollowRoutes } from "./routes/audit-follow.js";
import { dataKeyRoutes } from "./routes/datakeys.js";
import { secretRoutes } from "./routes/secrets.js";
import { delegateRoutes } from "./routes/delegate.js";
import { keyRoutes } from "./routes/keys.js";
import { payloadRoutes } from "./routes/payloads.js";
import type { RouteGate } from "./routes/register.js";
import { signRoutes } from "./routes/sign.js";
import { BODY_LIMIT } from "./schemas.js";
import type { Service } from "./service.js";
import { verifyToken } from "./tokens.js";

export interface AppOptions {
  readonly serverFactory?: FastifyServerFactory;
  /** Adds GET /v1/noop (answers at once; for the benchmark's baseline). */
  readonly noop?: boolean;
  /** Called with unexpected errors (the client sees an opaque 503). */
  readonly onInternalError?: (e: unknown) => void;
  /** Adds routes behind the service's authentication (the dashboard at /ui/: src/web/service-ui.ts, mounted by `pipeseal serve`). */
  readonly extend?: (app: FastifyInstance, svc: Service) => void;
}

const OPEN = new Set(["/healthz", "/readyz", "/v1/openapi.json"]);

export function buildApp(svc: Service, options: AppOptions = {}): FastifyInstance {
  const app = Fastify({
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    bodyLimit: BODY_LIMIT,
    logger: false,
    return503OnClosing: true,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    keepAliveTimeout: 72_000,
    requestTimeout: 30_000,
    // refuse unknown fields and wrong types instead of dropping or coercing them
    // errors fastify raises before routing (bad URL encoding, bad content type) get the same typed body
    frameworkErrors: (err, _req, reply) => {
      const w = toWireError(err);
      void (reply as unknown as { code(n: number): { send(b: unknown): unknown } }).code(w.status).send(w.body);
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });
  app.decorateRequest("principal", "");
  app.decorateRequest("auth", "mtls");
  app.decorateRequest("tokenOps", undefined);

  app.addHook("onRequest", async (req) => {
    const peer = peerOf(req.raw);
    if (!peer) return authenticateWithoutCertificate(svc, req);
    req.principal = peer.spiffeId;
    req.auth = "mtls";
    if (OPEN.has(req.url)) return;
    const header = req.headers.authorization;
    if (header === undefined) return;
    const claims = await verifyToken(svc.tokens, bearer(header), peer.spiffeId, svc.now(), svc.certificateRevoked);
    req.auth = "token";
    req.tokenOps = claims.ops;
  });

  app.addHook("preParsing", async (req, _reply, payload) => {
    await gateBeforeParsing(svc, req);
    return payload;
  });

  app.setErrorHandler((err, _req, reply) => {
    const w = toWireError(err);
    if (w.body.error.code === "UNAVAILABLE") options.onInternalError?.(err);
    return reply.code(w.status).send(w.body);
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { code: "NOT_FOUND", message: "no such route" } }));

  const doc = openApiDocument();
  app.get("/v1/openapi.json", async () => doc);
  app.get("/healthz", async () => ({ ok: true }));
  app.get("/readyz", async (_req, reply) => {
    try {
      await svc.store.listPolicies();
      return { ok: true };
    } catch {
      return reply.code(503).send({ error: { code: "UNAVAILABLE", message: "the store is not reachable" } });
    }
  });
  if (options.noop) app.get("/v1/noop", async () => ({ ok: true }));

  keyRoutes(app, svc);
  dataKeyRoutes(app, svc);
  payloadRoutes(app, svc);
  signRoutes(app, svc);
  adminRoutes(app, svc);
  auditExportRoutes(app, svc);
  auditFollowRoutes(app, svc);
  delegateRoutes(app, svc);
  secretRoutes(app, svc);
  options.extend?.(app, svc);
  return app;
}

/**
 * Decide, then parse: before fastify reads a request's body or validates its query, the
 * route's operation is decided for the caller alone (Authorizer.gate). A caller who may never
 * do it — a key administrator on /v1/decrypt, a workload on /v1/policy/proposals — is refused
 * with 403 and an audited denial, and its input is never parsed, so no parser error (a
 * policy's line:column, "not a /v1/encrypt ciphertext") tells it anything. The handler then
 * makes the full decision on the key name and context, before it parses anything else.
 */
async function gateBeforeParsing(svc: Service, req: FastifyRequest): Promise<void> {
  const op = (req.routeOptions.config as Partial<RouteGate> | undefined)?.op;
  if (typeof op === "string") await svc.authz.gate(accessRequest(req, op));
}

/**
 * A connection without a client certificate (only a gate with `clientCertOptional` lets one
 * in): the health and OpenAPI routes, or a bearer token whose identity the allow-list admits.
 * @throws ServiceError(UNAUTHENTICATED)
 */
async function authenticateWithoutCertificate(svc: Service, req: FastifyRequest): Promise<void> {
  const open = svc.tokensWithoutCertificate;
  if (open === null) throw new ServiceError("UNAUTHENTICATED", "a client certificate is required");
  if (OPEN.has(req.url)) return;
  const header = req.headers.authorization;
  if (header === undefined) throw new ServiceError("UNAUTHENTICATED", "a client certificate or a bearer token is required");
  const claims = await verifyToken(svc.tokens, bearer(header), null, svc.now(), svc.certificateRevoked);
  if (!identityAllowed(claims.sub, open.allow)) throw new ServiceError("UNAUTHENTICATED", "bearer token refused: its identity is not allowed in");
  req.principal = claims.sub;
  req.auth = "token";
  req.tokenOps = claims.ops;
}

/** The token of an `Authorization: Bearer …` header. @throws ServiceError(UNAUTHENTICATED) */
function bearer(header: string): string {
  if (!/^Bearer [A-Za-z0-9._-]{1,4096}$/.test(header)) throw new ServiceError("UNAUTHENTICATED", "bearer token refused: malformed");
  return header.slice(7);
}
