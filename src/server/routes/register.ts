/**
 * Registers one API route from its entry in ROUTES (path, method, validation schema). The
 * route's policy operation is declared there and nowhere else: it goes into its fastify
 * config, where the app's preParsing hook finds it and decides before the body is read
 * (app.ts, `gateBeforeParsing`), and the handler's full decision on the parsed request
 * (service.ts `permit`) reads it from the same config through {@link routeOperation}.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ServiceError } from "../errors.js";
import { ROUTES, type RouteName, inline } from "../schemas.js";

/** A route's fastify config: the operation decided before its body is parsed (null: mTLS only). */
export interface RouteGate {
  readonly op: string | null;
}

/**
 * The policy operation the route table declares for this request's route.
 * @throws ServiceError(UNAVAILABLE) for a route that declares none (a programming error: such a route decides nothing).
 */
export function routeOperation(req: FastifyRequest): string {
  const op = (req.routeOptions.config as Partial<RouteGate> | undefined)?.op;
  if (typeof op !== "string") throw new ServiceError("UNAVAILABLE", "this route has no operation to authorize");
  return op;
}

export type Handler<B> = (req: FastifyRequest & { body: B }, reply: FastifyReply) => Promise<unknown>;

export function route<B = Record<string, never>>(app: FastifyInstance, name: RouteName, handler: Handler<B>): void {
  const r = ROUTES[name] as { method: "GET" | "POST"; path: string; op: string | null; body?: unknown; query?: unknown };
  app.route({
    method: r.method,
    url: r.path,
    schema: { ...(r.body ? { body: inline(r.body) } : {}), ...(r.query ? { querystring: inline(r.query) } : {}) },
    config: { op: r.op } satisfies RouteGate,
    handler: handler as never,
  });
}
