/** Key administration: create, rotate, list, show, disable, enable, destroy, min-version. */
import type { FastifyInstance } from "fastify";
import type { FastifyRequest } from "fastify";
import { accessRequest } from "../authz.js";
import { type Service, permit } from "../service.js";
import { isInternalKey } from "../../keys/internal-keys.js";
import { route, routeOperation } from "./register.js";
import type { Actor } from "../store/actor.js";

type Name = { name: string };
type NameVersion = { name: string; version: number };

export function keyRoutes(app: FastifyInstance, svc: Service): void {
  const { store } = svc;
  route<Name & { rotateEverySeconds?: number }>(app, "createKey", async (req, reply) => {
    const info = await permit(svc, req, { keyName: req.body.name }, (who) =>
      store.createKey(who, req.body.name, req.body.rotateEverySeconds ? { rotateEverySeconds: req.body.rotateEverySeconds } : {}),
    );
    return reply.code(201).send(info);
  });
  route<Name>(app, "rotateKey", async (req) => {
    return permit(svc, req, { keyName: req.body.name }, (who) => store.rotateKey(who, req.body.name));
  });
  route(app, "listKeys", async (req) => {
    return { keys: (await permit(svc, req, {}, () => store.listKeys())).filter((k) => visible(svc, req, k.name)) };
  });
  route<Name>(app, "showKey", async (req) => {
    return permit(svc, req, { keyName: req.body.name }, () => store.showKey(req.body.name));
  });
  const versioned = [
    ["disableVersion", (p: Actor, n: string, v: number) => store.disableVersion(p, n, v)],
    ["enableVersion", (p: Actor, n: string, v: number) => store.enableVersion(p, n, v)],
    ["destroyVersion", (p: Actor, n: string, v: number) => store.destroyVersion(p, n, v)],
    ["setMinVersion", (p: Actor, n: string, v: number) => store.setMinDecryptVersion(p, n, v)],
  ] as const;
  for (const [name, run] of versioned) {
    route<NameVersion>(app, name, async (req) =>
      permit(svc, req, { keyName: req.body.name, keyVersion: req.body.version }, (who) => run(who, req.body.name, req.body.version)),
    );
  }
}

/**
 * Is `keyName` in this caller's key list? The listing shows what `key.show` shows (versions,
 * states, wrap counts), so a key is listed only when the same policy decision allows both
 * `key.list` on it (rules with `keys` and environment isolation apply) and `key.show` of it.
 * key.show is asked for the principal, not within a bearer token's operations: a token
 * narrowed to key.list still lists, but never more than the principal could show. The
 * per-key decisions are not recorded; the request's key.list record (with its rule) is. A caller
 * outside the route table (the dashboard) names the listing operation. pipeseal's own keys
 * (the token key, the CA's) are listed only to who may also rotate them.
 */
export function visible(svc: Service, req: FastifyRequest, keyName: string, listOperation: string = routeOperation(req)): boolean {
  const caller = { principal: req.principal, auth: req.auth };
  const may = (operation: string) => svc.authz.decide(accessRequest(caller, operation, { keyName })).allowed;
  // pipeseal's own keys only to who administers them (keys/internal-keys.ts)
  const listed = svc.authz.decide(accessRequest(req, listOperation, { keyName })).allowed; // the route's own operation, key.list
  return listed && may("key.show") && (!isInternalKey(keyName) || may("key.rotate"));
}
