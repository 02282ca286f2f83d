/** The OpenAPI 3.1 document served at /v1/openapi.json, built from the same schemas fastify validates with. */
import { AUDIT_EXPORT_SCHEMA } from "../audit/export.js";
import { ROUTES, S } from "./schemas.js";
import { statusFor, type WireCode } from "./errors.js";
import { AUDIT_EXPORT_ROUTE } from "./routes/audit-export.js";
import { AUDIT_FOLLOW_ROUTE } from "./routes/audit-follow.js";
import { AUDIT_FOLLOW_SCHEMA } from "../audit/follow.js";

const COMMON: WireCode[] = ["INVALID_ARGUMENT", "UNAUTHENTICATED", "ACCESS_DENIED", "PAYLOAD_TOO_LARGE", "AUDIT_WRITE_FAILED"];

type RouteSpec = { method: string; path: string; op: string | null; summary: string; body?: unknown; query?: unknown };

/** One line of GET /v1/audit/export (src/audit/export.ts); documented here so a SIEM can validate what it ingests. */
const AUDIT_EXPORT_PROPERTIES = {
  schema: { const: AUDIT_EXPORT_SCHEMA },
  seq: { type: "integer", minimum: 1, description: "position in the hash chain" },
  time: { type: "string", format: "date-time" },
  principal: { type: "string" },
  operation: {
    type: "string",
    description:
      "e.g. unwrap, key.rotate; authz.<operation> for a decision no operation followed (a denial, or an allowed operation that failed before it started)",
  },
  key: { type: ["string", "null"] },
  version: { type: ["integer", "null"] },
  outcome: { enum: ["ok", "denied", "error"] },
  errorCode: { type: ["string", "null"], description: "stable code (docs/errors.md) when outcome is not ok" },
  rule: {
    type: ["string", "null"],
    description:
      "the policy rule or builtin:<invariant> that decided: on an allowed operation's own record and on every authz.* record; null where no decision was made (local records, the service's own)",
  },
  object: { type: ["string", "null"] },
  headerHash: { type: ["string", "null"] },
  context: { type: ["object", "null"], additionalProperties: { type: "string" } },
  chainHash: { type: "string", pattern: "^[0-9a-f]{64}$", description: "HMAC-SHA-256 chaining this record to the previous one" },
} as const;

const AUDIT_EXPORT_RECORD = {
  type: "object",
  additionalProperties: false,
  required: Object.keys(AUDIT_EXPORT_PROPERTIES), // every field is always present (null when it does not apply)
  properties: AUDIT_EXPORT_PROPERTIES,
} as const;

/** The heartbeat line of GET /v1/audit/follow (src/audit/follow.ts), between the records. */
const AUDIT_HEARTBEAT = {
  type: "object",
  additionalProperties: false,
  required: ["schema", "type", "head", "time"],
  properties: {
    schema: { const: AUDIT_FOLLOW_SCHEMA },
    type: { const: "heartbeat" },
    head: {
      type: "integer",
      minimum: 0,
      description: "the store's highest seq when written: below the follower's last seq means records were removed at the end",
    },
    time: { type: "string", format: "date-time" },
  },
} as const;

function errorResponses(): Record<string, unknown> {
  return Object.fromEntries(
    [...new Set(COMMON.map(statusFor))].map((s) => [
      String(s),
      { description: "error", content: { "application/json": { schema: { $ref: "#/components/schemas/error" } } } },
    ]),
  );
}

function operation(name: string, r: RouteSpec, ok: Record<string, unknown>): Record<string, unknown> {
  return {
    operationId: name,
    summary: r.summary,
    ...(r.op ? { "x-pipeseal-permission": r.op } : {}),
    ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: r.body } } } } : {}),
    ...(r.query
      ? {
          parameters: Object.entries((r.query as { properties: Record<string, unknown> }).properties).map(([n, schema]) => ({
            name: n,
            in: "query",
            required: false,
            schema,
          })),
        }
      : {}),
    responses: { "200": ok, ...errorResponses() },
    security: [{ mtls: [] }, { mtls: [], bearer: [] }, { bearer: [] }],
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const add = (name: string, r: RouteSpec, ok: Record<string, unknown>) => {
    paths[r.path] = { ...paths[r.path], [r.method.toLowerCase()]: operation(name, r, ok) };
  };
  for (const [name, r] of Object.entries(ROUTES) as [string, RouteSpec][])
    add(name, r, { description: "ok", content: { "application/json": { schema: { type: "object" } } } });
  add("exportAudit", AUDIT_EXPORT_ROUTE, {
    description: "one auditExportRecord per line; a stream cut short by a server failure ends without its final chunk (a transport error, not a short export)",
    content: {
      "application/x-ndjson": { schema: { $ref: "#/components/schemas/auditExportRecord" }, itemSchema: { $ref: "#/components/schemas/auditExportRecord" } },
    },
  });
  add("followAudit", AUDIT_FOLLOW_ROUTE, {
    description:
      "auditExportRecord lines as they commit, with an auditHeartbeat line every `heartbeat` seconds; ends cleanly after the token lifetime (follow again from the last seq)",
    content: {
      "application/x-ndjson": { schema: { $ref: "#/components/schemas/auditFollowLine" }, itemSchema: { $ref: "#/components/schemas/auditFollowLine" } },
    },
  });
  paths["/healthz"] = { get: { operationId: "healthz", summary: "liveness", responses: { "200": { description: "alive" } } } };
  paths["/readyz"] = {
    get: { operationId: "readyz", summary: "readiness (store reachable)", responses: { "200": { description: "ready" }, "503": { description: "not ready" } } },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "pipeseal key service",
      version: "1.0.0",
      description:
        "Key operations over mTLS. Every decision is audited before the response: an allowed operation is one record carrying the rule that allowed it, a denial one authz.<operation> record with its rule. x-pipeseal-permission is the route's operation, declared once in the route table. Errors are { error: { code, message } }.",
    },
    components: {
      schemas: {
        ...S,
        auditExportRecord: AUDIT_EXPORT_RECORD,
        auditHeartbeat: AUDIT_HEARTBEAT,
        auditFollowLine: { oneOf: [{ $ref: "#/components/schemas/auditExportRecord" }, { $ref: "#/components/schemas/auditHeartbeat" }] },
      },
      securitySchemes: {
        mtls: { type: "mutualTLS", description: "client certificate from the pipeseal CA; identity = the SPIFFE URI SAN" },
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "POST /v1/tokens; ≤ 15 min, valid only with the identity that minted it, or with no client certificate at all where the service sets tokensWithoutCertificate",
        },
      },
    },
    paths,
  };
}
