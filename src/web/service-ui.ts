/**
 * The dashboard inside the key service, at /ui/: the same pages and routes as `pipeseal ui`
 * (app.ts), reading the service's own store through the same library calls, behind the
 * service's authentication and policy (service-access.ts). `pipeseal serve` mounts it through
 * the app's `extend` option, so the server layer never imports the web one.
 *
 * The pages read keystore.db tables, so the dashboard is served over a SQLite store; over a
 * PostgreSQL store /ui/ answers 501 with a page saying so (docs/ui.md) — after the same
 * authentication and admission, so nothing is served to a caller the service or its policy
 * does not admit.
 *
 * @example
 * const svc = await startKeyService(config, { extend: serviceDashboard() });
 * // https://host:port/ui/ with a client certificate the allow-list and the policy admit
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS } from "../audit/query-indexes.js";
import type { Service } from "../server/service.js";
import type { SqliteReadView } from "../server/store/sqlite.js";
import type { KeyStore } from "../server/store/types.js";
import { registerDashboard } from "./app.js";
import { type Dashboard, USE_OPERATIONS } from "./context.js";
import { admitViewer, serviceAccess } from "./service-access.js";
import { SessionGate } from "./session.js";
import { UseCounter } from "./use-counter.js";

export const SERVICE_UI_BASE = "/ui/";

export interface ServiceDashboardOptions {
  readonly now?: () => number;
}

function readView(store: KeyStore): SqliteReadView | null {
  const s = store as Partial<{ dashboardView(): SqliteReadView }>;
  return typeof s.dashboardView === "function" ? s.dashboardView() : null;
}

/** The `extend` hook of startKeyService / buildApp that mounts the dashboard at /ui/. */
export function serviceDashboard(options: ServiceDashboardOptions = {}): (app: FastifyInstance, svc: Service) => void {
  return (app, svc) => {
    const view = readView(svc.store);
    if (view === null) {
      void app.register(
        async (scope) => {
          const notHere = async (req: FastifyRequest, reply: FastifyReply) => {
            await admitViewer(svc, req); // the same admission as the pages: 403 for an identity with no dashboard right
            return reply
              .code(501)
              .type("text/html; charset=utf-8")
              .header("content-security-policy", "default-src 'none'")
              .send(
                `<!DOCTYPE html><html lang="en"><title>501 · pipeseal</title><p>The dashboard is served over a SQLite store; this key service keeps its keys in ${svc.store.kind}. Use the /v1 API (pipeseal audit export --server …).</p></html>`,
              );
          };
          scope.get("/", notHere);
          scope.get("/*", notHere);
        },
        { prefix: SERVICE_UI_BASE.slice(0, -1) },
      );
      return;
    }
    view.ensureTables(AUDIT_QUERY_CAPABILITY, AUDIT_QUERY_MIGRATIONS); // the indexes the pages' queries need
    const now = options.now ?? svc.now;
    const d: Dashboard = {
      ks: view,
      now,
      alerts: null, // the monitor's ledger is not in the service's store: alerts are the local dashboard's
      posture: null,
      frame: { base: SERVICE_UI_BASE, label: `key service ${svc.keyringId}`, identity: "" },
      readOnly: false,
      lastVerify: null,
      useCounters: { hour: new UseCounter(USE_OPERATIONS, 3_600_000), day: new UseCounter(USE_OPERATIONS, 86_400_000) },
    };
    const access = serviceAccess(svc, new SessionGate({ now }), SERVICE_UI_BASE);
    void app.register(async (scope) => registerDashboard(scope, d, access), { prefix: SERVICE_UI_BASE.slice(0, -1) });
  };
}
