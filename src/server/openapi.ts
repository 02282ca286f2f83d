/** The OpenAPI 3.1 document served at /v1/openapi.json, built from the same schemas fastify validates with. */
import { ROUTES, S } from "./schemas.js";
import { statusFor, type WireCode } from "./errors.js";

const COMMON: WireCode[] = ["INVALID_ARGUMENT", "UNAUTHENTICATED", "ACCESS_DENIED", "PAYLOAD_TOO_LARGE", "AUDIT_WRITE_FAILED"];

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, r] of Object.entries(ROUTES) as [string, { method: string; path: string; op: string | null; summary: string; body?: unknown; query?: unknown }][]) {
    const errors = Object.fromEntries([...new Set(COMMON.map(statusFor))].map((s) => [String(s), { description: "error", content: { "application/json": { schema: { $ref: "#/components/schemas/error" } } } }]));
    paths[r.path] = {
      ...paths[r.path],
      [r.method.toLowerCase()]: {
        operationId: name,
        summary: r.summary,
        ...(r.op ? { "x-pipeseal-permission": r.op } : {}),
        ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: r.body } } } } : {}),
        ...(r.query ? { parameters: Object.entries((r.query as { properties: Record<string, unknown> }).properties).map(([n, schema]) => ({ name: n, in: "query", required: false, schema })) } : {}),
        responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object" } } } }, ...errors },
        security: [{ mtls: [] }, { mtls: [], bearer: [] }],
      },
    };
  }
  paths["/healthz"] = { get: { operationId: "healthz", summary: "liveness", responses: { "200": { description: "alive" } } } };
  paths["/readyz"] = { get: { operationId: "readyz", summary: "readiness (store reachable)", responses: { "200": { description: "ready" }, "503": { description: "not ready" } } } };
  return {
    openapi: "3.1.0",
    info: { title: "pipeseal key service", version: "1.0.0", description: "Key operations over mTLS. Every decision is audited before the response; errors are { error: { code, message } }." },
    components: {
      schemas: S,
      securitySchemes: {
        mtls: { type: "mutualTLS", description: "client certificate from the pipeseal CA; identity = the SPIFFE URI SAN" },
        bearer: { type: "http", scheme: "bearer", description: "POST /v1/tokens; ≤ 15 min, valid only with the identity that minted it" },
      },
    },
    paths,
  };
}
