/**
 * GET /v1/audit/export: the audit log as JSON lines for a SIEM (src/audit/export.ts schema),
 * streamed from the store page by page, so a long log never sits in memory.
 *
 * Authorized as its own operation, `audit.export` (only the built-in auditor role can ever
 * hold it: a workload reading every principal's contexts would be a leak). Its one record
 * (`audit.export`, with the rule) is written before the first record is read, so the export
 * shows up in the log it exports.
 *
 * Failure handling: the first line is read before the status line is sent, so a store that
 * is down is an ordinary typed 503. A failure after that aborts the chunked response without
 * its terminating chunk: the client sees a broken stream, never a short export that looks whole.
 */
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { auditExportLine } from "../../audit/export.js";
import { exportContext } from "../../audit/export-local.js";
import type { AuditRecord } from "../../audit/types.js";
import { type Service, permit } from "../service.js";
import type { RouteGate } from "./register.js";

export const AUDIT_EXPORT_ROUTE = {
  method: "GET",
  path: "/v1/audit/export",
  op: "audit.export",
  summary: "the audit log as JSON lines (application/x-ndjson), oldest first, streamed",
  query: {
    type: "object",
    additionalProperties: false,
    properties: {
      since: { type: "string", pattern: "^[0-9]{1,15}$", description: "epoch milliseconds: only records at or after this time" },
      afterSeq: { type: "string", pattern: "^[0-9]{1,15}$", description: "only records after this seq (resume from the last seq received)" },
    },
  },
} as const;

export function auditExportRoutes(app: FastifyInstance, svc: Service): void {
  app.route({
    method: AUDIT_EXPORT_ROUTE.method,
    url: AUDIT_EXPORT_ROUTE.path,
    schema: { querystring: AUDIT_EXPORT_ROUTE.query },
    config: { op: AUDIT_EXPORT_ROUTE.op } satisfies RouteGate,
    handler: async (req, reply) => {
      const { since, afterSeq } = req.query as { since?: string; afterSeq?: string };
      const options = { ...(since === undefined ? {} : { sinceMs: Number(since) }), ...(afterSeq === undefined ? {} : { afterSeq: Number(afterSeq) }) };
      const context = exportContext(options);
      await permit(svc, req, Object.keys(context).length === 0 ? {} : { context }, async () => undefined);
      const lines = svc.store.exportAudit(options)[Symbol.asyncIterator]();
      const first = await lines.next();
      return reply
        .type("application/x-ndjson; charset=utf-8")
        .header("cache-control", "no-store")
        .send(Readable.from(exportLines(first, lines), { objectMode: false }));
    },
  });
}

/** The store yields its own JSON lines of AuditRecord; each becomes one export line. */
async function* exportLines(first: IteratorResult<string>, rest: AsyncIterator<string>): AsyncGenerator<string> {
  for (let r = first; !r.done; r = await rest.next()) yield auditExportLine(JSON.parse(r.value) as AuditRecord);
}
