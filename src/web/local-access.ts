/**
 * The local dashboard's access (`pipeseal ui`): the Host header must be the server's own
 * (DNS rebinding), the single-use login token becomes the session cookie (session.ts), and
 * the session holder acts as the keystore's principal with every right the dashboard has
 * (no admin action when read-only). A form's Origin, when the browser sends one, must be the
 * site's own.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { recordLocalExport } from "../audit/export-local.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { type Access, ownerViewer } from "./access.js";
import { localKeyAdmin } from "./actions.js";
import type { AlertSource } from "./alerts.js";
import type { Query } from "./filter-params.js";
import { type SessionGate, readCookie, sessionCookie } from "./session.js";

export interface LocalAccessOptions {
  readonly ks: LocalKeystore;
  readonly gate: SessionGate;
  /** The site's path ("/"). */
  readonly base: string;
  /** Host:port values the Host header may carry. Set once listening. */
  readonly allowedHosts: () => ReadonlySet<string>;
  /** The site's origin(s) a form's Origin header may carry. */
  readonly origins: () => ReadonlySet<string>;
  readonly readOnly: boolean;
  readonly alerts: AlertSource | null;
}

const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type("text/html; charset=utf-8").send(body);

export function localAccess(o: LocalAccessOptions): Access {
  const viewer = ownerViewer(o.ks.principal, o.readOnly);
  const admin = localKeyAdmin(o.ks);
  const ack = o.alerts?.ack?.bind(o.alerts);
  return {
    secure: false,
    async enter(req: FastifyRequest, reply: FastifyReply) {
      if (!o.allowedHosts().has(req.headers.host ?? "")) {
        await html(reply, 421, "<!DOCTYPE html><title>421</title><p>Misdirected request: this server answers only to its own address.</p>");
        return null;
      }
      const token = (req.query as Query).token;
      if (typeof token === "string" && req.url.split("?")[0] === o.base) {
        const id = o.gate.redeem(token);
        if (id === null) await unauthorized(reply);
        else
          await reply
            .code(303)
            .header("set-cookie", sessionCookie(id, o.base, false))
            .header("location", o.base)
            .send();
        return null;
      }
      const session = o.gate.session(readCookie(req.headers.cookie));
      if (session === null) {
        await unauthorized(reply);
        return null;
      }
      return {
        session,
        viewer,
        admin,
        recordExport: async (context) => recordLocalExport(o.ks, context),
        verifyAudit: async () => o.ks.verifyAudit(),
        ackAlert: ack && !o.readOnly ? async (id, note) => ack(id, note) : null,
      };
    },
    originAllowed(req) {
      const origin = req.headers.origin;
      return origin === undefined || o.origins().has(origin);
    },
  };
}

function unauthorized(reply: FastifyReply): FastifyReply {
  return html(
    reply,
    401,
    '<!DOCTYPE html><html lang="en"><title>401 · pipeseal</title><p>Not signed in. Open the URL <code>pipeseal ui</code> printed (its token works once).</p></html>',
  );
}
