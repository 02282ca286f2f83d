/**
 * The dashboard as a fastify app: the session gate in front of every route (401 without a
 * session, even for the stylesheet), the pages, the exports and the admin actions. Pages are
 * HTML rendered here; the only script is the site's own file.
 */
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { CSP as POSTURE_CSP } from "../posture/report/html/assets.js";
import { isPipesealError } from "../errors.js";
import { errorStatus } from "./status.js";
import { applyAction, parseAction } from "./actions.js";
import { ICON_SVG, SITE_CSS, clientScript } from "./assets.js";
import { type Dashboard, type PageRequest, read } from "./context.js";
import { exportFiltered } from "./export.js";
import { filterFromQuery, type Query } from "./filter-params.js";
import { type Raw, html, link } from "./html.js";
import { type PageId, page } from "./layout.js";
import { type Session, SessionGate, csrfMatches, readCookie, sessionCookie } from "./session.js";
import { COMMON_HEADERS, SITE_CSP, reportCsp } from "./headers.js";
import { auditTimeline } from "../audit/query.js";
import { barChart } from "./svg.js";
import { overviewPage } from "./pages/overview.js";
import { keysPage } from "./pages/keys.js";
import { keyPage } from "./pages/key.js";
import { auditPage, recordPage } from "./pages/audit.js";
import { principalPage, principalsPage } from "./pages/principals.js";
import { alertsPage } from "./pages/alerts.js";
import { certificatesPage } from "./pages/certificates.js";
import { postureReportHtml, posturePage } from "./pages/posture.js";
import { num } from "./html.js";

export interface DashboardAppOptions {
  /** Host:port values the Host header may carry (DNS rebinding: a foreign name pointing here is refused). Set once listening. */
  readonly allowedHosts: () => ReadonlySet<string>;
  /** The site's origin(s) a form's Origin header may carry. */
  readonly origins: () => ReadonlySet<string>;
  readonly secure: boolean;
}

type Handler = (req: FastifyRequest, reply: FastifyReply, s: Session) => Promise<unknown> | unknown;

const sendHtml = (reply: FastifyReply, status: number, body: string) => reply.code(status).type("text/html; charset=utf-8").send(body);

export function dashboardApp(d: Dashboard, gate: SessionGate, o: DashboardAppOptions): FastifyInstance {
  const app = Fastify({ logger: false, trustProxy: false, bodyLimit: 64 * 1024 });
  const b = d.frame.base;
  const script = clientScript();

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));

  app.addHook("onSend", async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) reply.header(k, v);
    if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", SITE_CSP);
    if (!reply.hasHeader("x-frame-options")) reply.header("x-frame-options", "DENY");
    return payload;
  });

  const frame = (s: Session, id: PageId | null, title: string, body: Raw) => {
    const flash = s.flash;
    s.flash = null;
    return page(d.frame, id, title, flash ? html`<p class="notice ${flash.ok ? "ok" : "bad"}" role="status" id="flash">${flash.text}</p>${body}` : body);
  };

  /** Every route: Host check, then the session (or the login token on the site's root). */
  const guarded = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (!o.allowedHosts().has(req.headers.host ?? "")) return sendHtml(reply, 421, "<!DOCTYPE html><title>421</title><p>Misdirected request: this server answers only to its own address.</p>");
    const token = (req.query as Query).token;
    if (typeof token === "string" && req.url.split("?")[0] === b) {
      const id = gate.redeem(token);
      if (id === null) return unauthorized(reply);
      return reply.code(303).header("set-cookie", sessionCookie(id, b, o.secure)).header("location", b).send();
    }
    const s = gate.session(readCookie(req.headers.cookie));
    if (s === null) return unauthorized(reply);
    if (req.method === "POST") {
      const origin = req.headers.origin;
      if (origin !== undefined && !o.origins().has(origin)) return sendHtml(reply, 403, "<!DOCTYPE html><title>403</title><p>Cross-origin form refused.</p>");
      if (!csrfMatches(s, (req.body as Record<string, unknown> | undefined)?.csrf)) return sendHtml(reply, 403, "<!DOCTYPE html><title>403</title><p>The form's session token is missing or stale: reload the page and try again.</p>");
    }
    try {
      return await handler(req, reply, s);
    } catch (e) {
      const status = errorStatus(e);
      const message = isPipesealError(e) ? `${e.message} [${e.code}]` : "internal error";
      return sendHtml(reply, status, frame(s, null, status === 404 ? "Not found" : "Could not show this", html`<p class="notice bad" role="alert" id="error">${message}</p><p><a href="${b}">Overview</a></p>`));
    }
  };

  const get = (path: string, h: Handler) => app.get(`${b}${path}`, guarded(h));
  const pr = (req: FastifyRequest, s: Session): PageRequest => ({ query: req.query as Query, csrf: s.csrf });
  const one = (req: FastifyRequest, name: string): string | undefined => {
    const v = (req.query as Query)[name];
    return typeof v === "string" && v !== "" ? v : undefined;
  };

  get("", (req, reply, s) => sendHtml(reply, 200, frame(s, "overview", "Overview", overviewPage(d, pr(req, s)))));
  get("keys", (_req, reply, s) => sendHtml(reply, 200, frame(s, "keys", "Keys", keysPage(d))));
  get("key", (req, reply, s) => {
    const p = keyPage(d, pr(req, s), one(req, "name") ?? "");
    return sendHtml(reply, 200, frame(s, "keys", p.title, p.body));
  });
  get("audit", (req, reply, s) => sendHtml(reply, 200, frame(s, "audit", "Audit", auditPage(d, pr(req, s)))));
  get("audit/record", (req, reply, s) => {
    const p = recordPage(d, pr(req, s));
    return sendHtml(reply, 200, frame(s, "audit", p.title, p.body));
  });
  get("audit/timeline.svg", (req, reply) => {
    const filter = filterFromQuery(req.query as Query, d.now());
    const t = read(d, (db) => auditTimeline(db, filter, { maxBuckets: 120 }));
    return reply.type("image/svg+xml").send(barChart(t.buckets.map((x) => ({ label: x.start, count: x.count })), `${num(t.total)} records per ${t.grain}`).markup);
  });
  for (const format of ["jsonl", "csv"] as const) {
    get(`audit/export.${format}`, async (req, reply) => {
      const filter = filterFromQuery(req.query as Query, d.now());
      const lines = exportFiltered(d, filter, format);
      const first = await lines.next(); // the export is recorded before anything is sent: a failure is an error page, not a cut file
      const stamp = new Date(d.now()).toISOString().replace(/[:.]/g, "-");
      reply.type(format === "jsonl" ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8").header("content-disposition", `attachment; filename="pipeseal-audit-${stamp}.${format}"`);
      return reply.send(Readable.from((async function* () {
        if (!first.done) yield first.value;
        yield* lines;
      })()));
    });
  }
  get("principals", (_req, reply, s) => sendHtml(reply, 200, frame(s, "principals", "Principals", principalsPage(d))));
  get("principal", (req, reply, s) => {
    const p = principalPage(d, one(req, "name") ?? "");
    return sendHtml(reply, 200, frame(s, "principals", p.title, p.body));
  });
  get("alerts", (_req, reply, s) => sendHtml(reply, 200, frame(s, "alerts", "Alerts", alertsPage(d))));
  get("certificates", (_req, reply, s) => sendHtml(reply, 200, frame(s, "certificates", "Certificates", certificatesPage(d))));
  get("posture", (req, reply, s) => sendHtml(reply, 200, frame(s, "posture", "Posture", posturePage(d, one(req, "id")))));
  get("posture/report", (req, reply) => {
    const report = postureReportHtml(d, one(req, "id"));
    if (report === null) return reply.code(404).type("text/plain").send("no posture report");
    return reply.header("content-security-policy", reportCsp(POSTURE_CSP)).header("x-frame-options", "SAMEORIGIN").type("text/html; charset=utf-8").send(report);
  });
  get("assets/site.css", (_req, reply) => reply.type("text/css; charset=utf-8").send(SITE_CSS));
  get("assets/icon.svg", (_req, reply) => reply.type("image/svg+xml").send(ICON_SVG));
  get("assets/app.js", (_req, reply) => reply.type("text/javascript; charset=utf-8").send(script));

  app.post(`${b}audit/verify`, guarded((req, reply, s) => {
    const result = d.ks.verifyAudit();
    d.lastVerify = { at: d.now(), result };
    s.flash = { ok: result.ok, text: result.ok ? `Audit chain verified: ${result.records} records.` : `Audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}.` };
    const back = (req.body as Record<string, unknown>).back === "overview" ? b : `${b}audit`;
    return reply.code(303).header("location", back).send();
  }));
  app.post(`${b}key/action`, guarded((req, reply, s) => {
    if (d.readOnly) return sendHtml(reply, 403, frame(s, "keys", "Read-only", html`<p class="notice bad" role="alert">This dashboard is read-only; nothing was changed.</p>`));
    const a = parseAction(req.body as Record<string, unknown>);
    const back = link(`${b}key`, { name: a.name });
    try {
      s.flash = { ok: true, text: `${a.name}: ${applyAction(d.ks, a)}` };
    } catch (e) {
      if (!isPipesealError(e)) throw e;
      s.flash = { ok: false, text: `${a.name}: ${e.message} [${e.code}]` };
      return sendHtml(reply, errorStatus(e), frame(s, "keys", `Key ${a.name}`, html`<p><a href="${back}">Back to the key</a></p>`));
    }
    return reply.code(303).header("location", back).send();
  }));

  app.setNotFoundHandler(guarded((_req, reply, s) => sendHtml(reply, 404, frame(s, null, "Not found", html`<p>No such page. <a href="${b}">Overview</a></p>`))));
  return app;
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return sendHtml(reply, 401, "<!DOCTYPE html><html lang=\"en\"><title>401 · pipeseal</title><p>Not signed in. Open the URL <code>pipeseal ui</code> printed (its token works once).</p></html>");
}
