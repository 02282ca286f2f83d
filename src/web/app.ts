/**
 * The dashboard's routes as a fastify plugin, behind an {@link Access}: every route admits its
 * request first (the local session gate, or the key service's mTLS / bearer identity), then
 * checks the viewer's right to the page (403 otherwise), and every state-changing request
 * needs the session's CSRF token and an acceptable Origin. Pages are HTML rendered here; the
 * only script is the site's own file. `pipeseal ui` runs it as its own server (dashboardApp);
 * the key service mounts it at /ui/ (service-ui.ts).
 */
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { CSP as POSTURE_CSP } from "../posture/report/html/assets.js";
import { isPipesealError } from "../errors.js";
import { errorStatus } from "./status.js";
import { ADMIN_ACTION_OPERATION, type Access, type DashboardOperation, type Visit } from "./access.js";
import { applyAction, checkConfirmed, parseAction } from "./actions.js";
import { ICON_SVG, SITE_CSS, clientScript } from "./assets.js";
import { type Dashboard, type PageRequest, read } from "./context.js";
import { exportFiltered } from "./export.js";
import { filterFromQuery, type Query } from "./filter-params.js";
import { type Raw, html, link } from "./html.js";
import { type PageId, page, visiblePages } from "./layout.js";
import { csrfMatches } from "./session.js";
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

/** Sync or async (a promise is awaited): what it returns is fastify's reply. */
type Handler = (req: FastifyRequest, reply: FastifyReply, v: Visit) => unknown;

const sendHtml = (reply: FastifyReply, status: number, body: string) => reply.code(status).type("text/html; charset=utf-8").send(body);

/** `pipeseal ui`'s own server: a fastify app with nothing but the dashboard. */
export function dashboardApp(d: Dashboard, access: Access): FastifyInstance {
  const app = Fastify({ logger: false, trustProxy: false, bodyLimit: 64 * 1024 });
  void app.register(async (scope) => registerDashboard(scope, d, access));
  return app;
}

/**
 * Registers the dashboard's routes on `app`, an encapsulated scope (its hooks, parsers and
 * not-found page stay inside) registered with the prefix `d.frame.base` names ("" locally,
 * "/ui" in the key service); links in the pages carry the base.
 */
export function registerDashboard(app: FastifyInstance, d: Dashboard, access: Access): void {
  const b = d.frame.base;
  const script = clientScript();

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.addHook("onSend", async (_req, reply, payload) => {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) reply.header(k, v);
    if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", SITE_CSP);
    if (!reply.hasHeader("x-frame-options")) reply.header("x-frame-options", "DENY");
    return payload;
  });

  const frame = (v: Visit, id: PageId | null, title: string, body: Raw) => {
    const flash = v.session.flash;
    v.session.flash = null;
    const f = { ...d.frame, identity: v.viewer.identity, pages: visiblePages(v.viewer) };
    return page(f, id, title, flash ? html`<p class="notice ${flash.ok ? "ok" : "bad"}" role="status" id="flash">${flash.text}</p>${body}` : body);
  };
  const forbidden = (reply: FastifyReply, v: Visit, what: string) =>
    sendHtml(
      reply,
      403,
      frame(
        v,
        null,
        "Not allowed",
        html`<p class="notice bad" role="alert" id="error">${v.viewer.identity} may not ${what} here (the policy decides what each identity sees). <a href="${b}">Overview</a></p>`,
      ),
    );

  /** Every route: the access admits the request (or has answered it), a state-changing one also needs its Origin and CSRF token, then the right. */
  const guarded =
    (handler: Handler, need?: DashboardOperation, what = "see this page") =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const v = await access.enter(req, reply);
      if (v === null) return reply;
      if (req.method === "POST") {
        if (!access.originAllowed(req)) return sendHtml(reply, 403, "<!DOCTYPE html><title>403</title><p>Cross-origin form refused.</p>");
        if (!csrfMatches(v.session, (req.body as Record<string, unknown> | undefined)?.csrf))
          return sendHtml(reply, 403, "<!DOCTYPE html><title>403</title><p>The form's session token is missing or stale: reload the page and try again.</p>");
      }
      if (need !== undefined && !v.viewer.can(need)) return forbidden(reply, v, what);
      try {
        return await handler(req, reply, v);
      } catch (e) {
        const status = errorStatus(e);
        const message = isPipesealError(e) ? `${e.message} [${e.code}]` : "internal error";
        return sendHtml(
          reply,
          status,
          frame(
            v,
            null,
            status === 404 ? "Not found" : "Could not show this",
            html`<p class="notice bad" role="alert" id="error">${message}</p><p><a href="${b}">Overview</a></p>`,
          ),
        );
      }
    };

  const get = (path: string, h: Handler, need?: DashboardOperation, what?: string) => app.get(`/${path}`, guarded(h, need, what));
  const pr = (req: FastifyRequest, v: Visit): PageRequest => ({ query: req.query as Query, csrf: v.session.csrf, viewer: v.viewer });
  const one = (req: FastifyRequest, name: string): string | undefined => {
    const x = (req.query as Query)[name];
    return typeof x === "string" && x !== "" ? x : undefined;
  };

  get("", (req, reply, v) => sendHtml(reply, 200, frame(v, "overview", "Overview", overviewPage(d, pr(req, v)))));
  get("keys", (req, reply, v) => sendHtml(reply, 200, frame(v, "keys", "Keys", keysPage(d, pr(req, v)))), "key.list", "list keys");
  get("key", (req, reply, v) => {
    const name = one(req, "name") ?? "";
    if (!v.viewer.can("key.show", name) || !v.viewer.sees(name)) return forbidden(reply, v, "see this key");
    const p = keyPage(d, pr(req, v), name);
    return sendHtml(reply, 200, frame(v, "keys", p.title, p.body));
  });
  get("audit", (req, reply, v) => sendHtml(reply, 200, frame(v, "audit", "Audit", auditPage(d, pr(req, v)))), "audit.read", "read the audit");
  get(
    "audit/record",
    (req, reply, v) => {
      const p = recordPage(d, pr(req, v));
      return sendHtml(reply, 200, frame(v, "audit", p.title, p.body));
    },
    "audit.read",
    "read the audit",
  );
  get(
    "audit/timeline.svg",
    (req, reply) => {
      const filter = filterFromQuery(req.query as Query, d.now());
      const t = read(d, (db) => auditTimeline(db, filter, { maxBuckets: 120 }));
      return reply.type("image/svg+xml").send(
        barChart(
          t.buckets.map((x) => ({ label: x.start, count: x.count })),
          `${num(t.total)} records per ${t.grain}`,
        ).markup,
      );
    },
    "audit.read",
    "read the audit",
  );
  for (const format of ["jsonl", "csv"] as const) {
    get(
      `audit/export.${format}`,
      async (req, reply, v) => {
        const filter = filterFromQuery(req.query as Query, d.now());
        const lines = exportFiltered(d, v, filter, format);
        const first = await lines.next(); // the export is recorded before anything is sent: a failure is an error page, not a cut file
        const stamp = new Date(d.now()).toISOString().replace(/[:.]/g, "-");
        reply
          .type(format === "jsonl" ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="pipeseal-audit-${stamp}.${format}"`);
        return reply.send(
          Readable.from(
            (async function* () {
              if (!first.done) yield first.value;
              yield* lines;
            })(),
          ),
        );
      },
      "audit.export",
      "export the audit",
    );
  }
  get("principals", (_req, reply, v) => sendHtml(reply, 200, frame(v, "principals", "Principals", principalsPage(d))), "audit.read", "read the audit");
  get(
    "principal",
    (req, reply, v) => {
      const p = principalPage(d, one(req, "name") ?? "");
      return sendHtml(reply, 200, frame(v, "principals", p.title, p.body));
    },
    "audit.read",
    "read the audit",
  );
  get("alerts", (req, reply, v) => sendHtml(reply, 200, frame(v, "alerts", "Alerts", alertsPage(d, pr(req, v), v.ackAlert !== null))));
  get("certificates", (_req, reply, v) => sendHtml(reply, 200, frame(v, "certificates", "Certificates", certificatesPage(d))));
  get("posture", (req, reply, v) => sendHtml(reply, 200, frame(v, "posture", "Posture", posturePage(d, one(req, "id")))));
  get("posture/report", (req, reply) => {
    const report = postureReportHtml(d, one(req, "id"));
    if (report === null) return reply.code(404).type("text/plain").send("no posture report");
    return reply
      .header("content-security-policy", reportCsp(POSTURE_CSP))
      .header("x-frame-options", "SAMEORIGIN")
      .type("text/html; charset=utf-8")
      .send(report);
  });
  get("assets/site.css", (_req, reply) => reply.type("text/css; charset=utf-8").send(SITE_CSS));
  get("assets/icon.svg", (_req, reply) => reply.type("image/svg+xml").send(ICON_SVG));
  get("assets/app.js", (_req, reply) => reply.type("text/javascript; charset=utf-8").send(script));

  app.post(
    "/audit/verify",
    guarded(
      async (req, reply, v) => {
        const result = await v.verifyAudit();
        d.lastVerify = { at: d.now(), result };
        v.session.flash = {
          ok: result.ok,
          text: result.ok
            ? `Audit chain verified: ${result.records} records.`
            : `Audit chain broken: ${result.problems.length} problem(s), first at record ${result.problems[0]?.seq}.`,
        };
        const back = (req.body as Record<string, unknown>).back === "overview" ? b : `${b}audit`;
        return reply.code(303).header("location", back).send();
      },
      "audit.read",
      "verify the audit chain",
    ),
  );
  app.post(
    "/key/action",
    guarded(async (req, reply, v) => {
      const a = parseAction(req.body as Record<string, unknown>);
      const back = link(`${b}key`, { name: a.name });
      if (!v.viewer.can(ADMIN_ACTION_OPERATION[a.action], a.name)) return forbidden(reply, v, `${a.action} ${a.name}; nothing was changed`);
      checkConfirmed(a); // before anything is decided or changed
      try {
        v.session.flash = { ok: true, text: `${a.name}: ${await applyAction(v.admin, a)}` };
      } catch (e) {
        if (!isPipesealError(e)) throw e;
        v.session.flash = { ok: false, text: `${a.name}: ${e.message} [${e.code}]` };
        return sendHtml(reply, errorStatus(e), frame(v, "keys", `Key ${a.name}`, html`<p><a href="${back}">Back to the key</a></p>`));
      }
      return reply.code(303).header("location", back).send();
    }),
  );
  app.post(
    "/alerts/ack",
    guarded(async (req, reply, v) => {
      if (v.ackAlert === null) return forbidden(reply, v, "acknowledge alerts");
      const form = req.body as Record<string, unknown>;
      const id = typeof form.id === "string" ? form.id : "";
      try {
        await v.ackAlert(id, typeof form.note === "string" ? form.note : "");
        v.session.flash = { ok: true, text: `${id}: acknowledged` };
      } catch (e) {
        if (!isPipesealError(e)) throw e;
        v.session.flash = { ok: false, text: `${id.slice(0, 40)}: ${e.message} [${e.code}]` };
        return sendHtml(reply, errorStatus(e), frame(v, "alerts", "Alerts", html`<p><a href="${b}alerts">Back to the alerts</a></p>`));
      }
      return reply.code(303).header("location", `${b}alerts`).send();
    }),
  );

  app.setNotFoundHandler(
    guarded((_req, reply, v) => sendHtml(reply, 404, frame(v, null, "Not found", html`<p>No such page. <a href="${b}">Overview</a></p>`))),
  );
}
