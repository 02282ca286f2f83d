/**
 * The key service's /ui/ access: the caller is the identity the service already
 * authenticated (its mTLS client certificate, or a bearer token; src/server/app.ts), and the
 * service's policy decides what that identity sees and does (decisions asked without
 * recording, as the key list's per-key filter does). An identity that may neither list keys
 * nor read the audit gets nothing: its request is refused as an audited audit.read denial
 * (403). Every admin action goes through `permitAs()`, which runs the store's own audited
 * method as the caller with the decision attached (one record carrying the rule), exactly as
 * the /v1 routes do; an export is an authorized `audit.export` with its filter as context.
 *
 * CSRF: a browser sends a client certificate with every request to the service, as it would a
 * cookie, so state-changing requests need three things: the SameSite=Strict session cookie
 * of this identity, the session's CSRF token in the form, and an Origin header naming the
 * service itself (Origin is required here, not only checked when present).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { type Service, permitAs } from "../server/service.js";
import type { Attributed } from "../server/store/actor.js";
import { accessRequest } from "../server/authz.js";
import { visible } from "../server/routes/keys.js";
import type { Access, KeyAdmin, Viewer } from "./access.js";
import { type SessionGate, readCookie, sessionCookie } from "./session.js";

export function serviceViewer(svc: Service, req: FastifyRequest): Viewer {
  return {
    identity: req.principal,
    can: (operation, keyName) => svc.authz.decide(accessRequest(req, operation, keyName === undefined ? {} : { keyName })).allowed,
    sees: (keyName) => visible(svc, req, keyName, "key.list"),
  };
}

/** The service's store as the viewer's KeyAdmin: the /v1 key routes' authorization and calls, in the same order. */
export function serviceKeyAdmin(svc: Service, req: FastifyRequest): KeyAdmin {
  const { store } = svc;
  const versioned = (op: string, run: (who: Attributed, n: string, v: number) => Promise<unknown>) => (name: string, version: number) =>
    permitAs(svc, req, op, { keyName: name, keyVersion: version }, (who) => run(who, name, version));
  return {
    rotate: (name) => permitAs(svc, req, "key.rotate", { keyName: name }, (who) => store.rotateKey(who, name)),
    disable: versioned("key.disable", (p, n, v) => store.disableVersion(p, n, v)) as KeyAdmin["disable"],
    enable: versioned("key.enable", (p, n, v) => store.enableVersion(p, n, v)) as KeyAdmin["enable"],
    setMinVersion: versioned("key.set-min-version", (p, n, v) => store.setMinDecryptVersion(p, n, v)) as KeyAdmin["setMinVersion"],
    destroy: versioned("key.destroy", (p, n, v) => store.destroyVersion(p, n, v)),
    show: (name) => store.showKey(name),
  };
}

/**
 * The caller's viewer, once the service's policy gives it some dashboard right (key.list or
 * audit.read); otherwise a recorded audit.read denial, thrown as 403 ACCESS_DENIED, so an
 * identity with no right learns nothing of the site (not even which store it runs on).
 * @throws ServiceError(ACCESS_DENIED)
 */
export async function admitViewer(svc: Service, req: FastifyRequest): Promise<Viewer> {
  await svc.authz.refresh().catch(() => undefined); // a policy approved on another replica shows here too
  const viewer = serviceViewer(svc, req);
  if (!viewer.can("key.list") && !viewer.can("audit.read")) await permitAs(svc, req, "audit.read", {}, async () => undefined);
  return viewer;
}

export function serviceAccess(svc: Service, gate: SessionGate, base: string): Access {
  return {
    secure: true,
    async enter(req: FastifyRequest, reply: FastifyReply) {
      const viewer = await admitViewer(svc, req);
      let session = gate.session(readCookie(req.headers.cookie));
      if (session === null || session.owner !== req.principal) {
        const started = gate.start(req.principal);
        session = started.session;
        reply.header("set-cookie", sessionCookie(started.id, base, true));
      }
      return {
        session,
        viewer,
        admin: serviceKeyAdmin(svc, req),
        recordExport: (context) => permitAs(svc, req, "audit.export", Object.keys(context).length === 0 ? {} : { context }, async () => undefined),
        verifyAudit: () => svc.store.verifyAudit(),
        ackAlert: null, // the monitor's ledger is not in the service's store (docs/ui.md)
      };
    },
    originAllowed(req) {
      const origin = req.headers.origin;
      return origin !== undefined && req.headers.host !== undefined && origin === `https://${req.headers.host}`;
    },
  };
}
