/**
 * Secrets over the API: list and show (metadata only, `secret.list`), set, rotate, disable,
 * enable and destroy (`secret.write`), read (`secret.read`: a plaintext operation, so a key administrator never
 * holds it, whatever the policy says). Every request is decided, and recorded as one record
 * carrying its rule (a change's or read's own, or the listing's); keyed
 * operations are decided on the namespace's key, `secrets/<namespace>`, so `keys:` patterns
 * govern secrets as they govern keys (such a key is shared: no environment in its name).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { secretKeyName, validateSecretName } from "../../secrets/names.js";
import { readPurpose } from "../../secrets/store.js";
import { accessRequest } from "../authz.js";
import { changeSecret, listSecrets, readSecret, setSecret, showSecret } from "../secrets.js";
import { ServiceError } from "../errors.js";
import type { SecretStateChange } from "../../secrets/rows.js";
import { type Service, permit } from "../service.js";
import { fromB64 } from "../wire.js";
import { route, routeOperation } from "./register.js";

type Name = { name: string };

export function secretRoutes(app: FastifyInstance, svc: Service): void {
  route(app, "listSecrets", async (req) => {
    return { secrets: (await permit(svc, req, {}, () => listSecrets(svc.store))).filter((s) => visible(svc, req, s.keyName)) };
  });
  route<Name>(app, "showSecret", async (req) => {
    const keyName = secretKeyName(validateSecretName(req.body.name));
    // what the listing would show: secret.list, and read or write on the namespace (one recorded decision)
    const decider = () => {
      const d = svc.authz.decide(accessRequest(req, routeOperation(req), { keyName }));
      if (!d.allowed || visible(svc, req, keyName)) return d;
      return { allowed: false, rule: "builtin:default-deny", reason: `secret.list of a secret needs secret.read or secret.write on ${keyName}` };
    };
    return permit(svc, req, { keyName, objectPath: `secret:${req.body.name}` }, () => showSecret(svc.store, req.body.name), { decider });
  });
  route<Name & { value: string; mode?: "set" | "rotate" }>(app, "setSecret", async (req, reply) => {
    const name = validateSecretName(req.body.name);
    const mode = req.body.mode ?? "set";
    const info = await permit(svc, req, { keyName: secretKeyName(name), objectPath: `secret:${name}`, context: { secret: name, mode } }, async (who) => {
      const value = fromB64(req.body.value, "value");
      try {
        return await setSecret(svc.store, who, name, value, mode, svc.now);
      } finally {
        value.fill(0);
      }
    });
    return reply.code(201).send(info);
  });
  route<Name & { change: SecretStateChange; version?: number; all?: boolean }>(app, "changeSecret", async (req) => {
    const name = validateSecretName(req.body.name);
    const version = req.body.all === true ? "all" : req.body.version;
    if (version === undefined || (req.body.all === true && req.body.version !== undefined))
      throw new ServiceError("INVALID_ARGUMENT", "give version or all: true");
    return permit(
      svc,
      req,
      { keyName: secretKeyName(name), objectPath: `secret:${name}`, context: { secret: name, change: req.body.change, version: String(version) } },
      (who) => changeSecret(svc.store, who, name, version, req.body.change),
    );
  });
  route<Name & { version?: number; for: string; pid?: number }>(app, "readSecret", async (req) => {
    const name = validateSecretName(req.body.name);
    const purpose = readPurpose(req.body.for);
    const target = {
      keyName: secretKeyName(name),
      objectPath: `secret:${name}`,
      context: { secret: name, version: String(req.body.version ?? "primary"), for: purpose },
    };
    const { value, version } = await permit(
      svc,
      req,
      target,
      (who) =>
        readSecret(svc.store, who, name, {
          ...(req.body.version !== undefined ? { version: req.body.version } : {}),
          for: purpose,
          ...(req.body.pid !== undefined ? { pid: req.body.pid } : {}),
        }),
      { discard: (r) => r.value.fill(0) },
    );
    try {
      return { name, version, value: value.toString("base64") };
    } finally {
      value.fill(0);
    }
  });
}

/**
 * Is a secret in this caller's listing? Only when it may read or write the secret's namespace
 * (decided, not recorded: the request's secret.list decision is), so a listing never names
 * secrets of namespaces the caller has nothing to do with.
 */
function visible(svc: Service, req: FastifyRequest, keyName: string): boolean {
  const caller = { principal: req.principal, auth: req.auth };
  return ["secret.read", "secret.write"].some((op) => svc.authz.decide(accessRequest(caller, op, { keyName })).allowed);
}
