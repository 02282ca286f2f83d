/**
 * GET /v1/audit/follow: the audit as it commits, one long-lived NDJSON response per follower
 * (`monitor run --server`). First the records after `afterSeq`, then each new record as it
 * is committed, with a heartbeat line every `heartbeat` seconds that carries the store's head.
 *
 * Why a stream and not `audit/export` in a loop: each export is an authorized operation with
 * its own decision record, so a monitor polling every second would write 86,400 records a day
 * and then watch itself. A follow is authorized once, as `audit.export` (the auditor's
 * operation: the same records leave the service), with ONE decision record carrying the rule
 * that allowed it and its cursor (`follow=true`, `afterSeq`).
 *
 * A follow lasts at most the service's token lifetime (tokenTtl, ≤ 15 min), then ends cleanly
 * and the client follows again from its last seq: a revoked certificate, a narrowed policy or
 * an expired token stops a follower within that time, at one record per quarter hour.
 *
 * The service watches its own store: one indexed read of the records after the last seq sent
 * every POLL_MS (SQLite and PostgreSQL alike: `seq` is the primary key), and one read of the
 * head per heartbeat. The head lets the follower see an audit that now ends before what it was
 * sent (records deleted at the end, a database restored from an older copy).
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { auditExportLine } from "../../audit/export.js";
import { AUDIT_FOLLOW_SCHEMA } from "../../audit/follow.js";
import type { AuditRecord } from "../../audit/types.js";
import { type Service, permit } from "../service.js";
import type { RouteGate } from "./register.js";

/** How often the follow looks for new records (a commit is pushed within this). */
const POLL_MS = 100;
const DEFAULT_HEARTBEAT_S = 5;

export const AUDIT_FOLLOW_ROUTE = {
  method: "GET",
  path: "/v1/audit/follow",
  op: "audit.export",
  summary: "the audit as it commits (application/x-ndjson): the records after afterSeq, then each new one, and heartbeat lines; one audit record per follow",
  query: {
    type: "object",
    additionalProperties: false,
    properties: {
      afterSeq: { type: "string", pattern: "^[0-9]{1,15}$", description: "only records after this seq (the last seq the follower took; default 0)" },
      heartbeat: { type: "string", pattern: "^(?:[1-9]|[1-9][0-9]|[12][0-9][0-9]|300)$", description: "seconds between heartbeat lines, 1–300 (default 5)" },
    },
  },
} as const;

export function auditFollowRoutes(app: FastifyInstance, svc: Service): void {
  // a server that stops ends every follow first, so its close does not wait on them
  const open = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const ac of open) ac.abort();
  });
  app.route({
    method: AUDIT_FOLLOW_ROUTE.method,
    url: AUDIT_FOLLOW_ROUTE.path,
    schema: { querystring: AUDIT_FOLLOW_ROUTE.query },
    config: { op: AUDIT_FOLLOW_ROUTE.op } satisfies RouteGate,
    handler: async (req, reply) => {
      const q = req.query as { afterSeq?: string; heartbeat?: string };
      const afterSeq = Number(q.afterSeq ?? "0");
      const heartbeatMs = Number(q.heartbeat ?? DEFAULT_HEARTBEAT_S) * 1000;
      await permit(svc, req, { context: { follow: "true", afterSeq: String(afterSeq) } }, async () => undefined); // the follow's one record
      const ac = new AbortController();
      open.add(ac);
      const done = () => {
        ac.abort();
        open.delete(ac);
      };
      reply.raw.on("close", done); // the follower went away: stop reading the store for it
      const lines = followLines(svc, afterSeq, heartbeatMs, Date.now() + svc.tokenTtlSeconds * 1000, ac.signal);
      const first = await lines.next(); // a store that is down now is an ordinary typed 503
      return reply
        .type("application/x-ndjson; charset=utf-8")
        .header("cache-control", "no-store")
        .header("x-accel-buffering", "no") // a proxy must pass each line on as it comes
        .send(Readable.from(rest(first, lines, done), { objectMode: false }));
    },
  });
}

async function* rest(first: IteratorResult<string>, lines: AsyncGenerator<string>, done: () => void): AsyncGenerator<string> {
  try {
    for (let r = first; !r.done; r = await lines.next()) yield r.value;
  } finally {
    done();
  }
}

/** The follow's lines: catch-up, then new records as they commit; a heartbeat after the catch-up and every `heartbeatMs`. */
async function* followLines(svc: Service, afterSeq: number, heartbeatMs: number, endAt: number, signal: AbortSignal): AsyncGenerator<string> {
  let last = afterSeq;
  let nextBeat = 0;
  while (!signal.aborted) {
    for await (const line of svc.store.exportAudit({ afterSeq: last })) {
      const r = JSON.parse(line) as AuditRecord;
      yield auditExportLine(r);
      last = r.seq;
      if (signal.aborted) return;
    }
    const t = Date.now(); // scheduling, not a policy decision: the wall clock
    if (t >= nextBeat) {
      // read after everything sent: on a healthy store the head is never below `last`
      const head = (await svc.store.listAudit({ limit: 1 }))[0]?.seq ?? 0;
      yield JSON.stringify({ schema: AUDIT_FOLLOW_SCHEMA, type: "heartbeat", head, time: new Date(t).toISOString() }) + "\n";
      nextBeat = t + heartbeatMs;
    }
    if (t >= endAt) return; // authorized again by the next follow
    try {
      await sleep(POLL_MS, undefined, { signal });
    } catch {
      return; // aborted
    }
  }
}
