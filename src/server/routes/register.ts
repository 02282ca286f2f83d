/** Registers one API route from its entry in ROUTES (path, method, validation schema). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ROUTES, type RouteName, inline } from "../schemas.js";

export type Handler<B> = (req: FastifyRequest & { body: B }, reply: FastifyReply) => Promise<unknown>;

export function route<B = Record<string, never>>(app: FastifyInstance, name: RouteName, handler: Handler<B>): void {
  const r = ROUTES[name] as { method: "GET" | "POST"; path: string; body?: unknown; query?: unknown };
  app.route({
    method: r.method,
    url: r.path,
    schema: { ...(r.body ? { body: inline(r.body) } : {}), ...(r.query ? { querystring: inline(r.query) } : {}) },
    handler: handler as never,
  });
}
