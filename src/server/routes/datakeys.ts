/** Data keys: wrap, generate (wrapped only / with plaintext), unwrap (single and batch), rewrap. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditObject, EncryptionContext } from "../../keys/keyring.js";
import { DATA_KEY_BYTES } from "../../keys/wrap-format.js";
import { accessRequest } from "../authz.js";
import { type Service, allow } from "../service.js";
import { type WireError, toWireError } from "../errors.js";
import { type WireWrappedKey, fromB64, fromWireEntry, toWireEntry } from "../wire.js";
import { route } from "./register.js";

type Ctx = { context?: EncryptionContext };
type UnwrapItem = Ctx & { wrappedKey: WireWrappedKey; object?: Partial<AuditObject> };

export function dataKeyRoutes(app: FastifyInstance, svc: Service): void {
  const { store } = svc;
  route<Ctx & { keyName: string; dataKey: string }>(app, "wrap", async (req) => {
    const context = req.body.context ?? {};
    // wrapping a caller's key releases nothing: the same permission as a wrapped-only data key
    await allow(svc, req, "datakey.generate", { keyName: req.body.keyName, context });
    const dk = fromB64(req.body.dataKey, "dataKey");
    try {
      return { wrappedKey: toWireEntry(await store.wrap(req.principal, req.body.keyName, dk, context)) };
    } finally {
      dk.fill(0);
    }
  });
  route<Ctx & { keyName: string }>(app, "generateWrapped", async (req) => {
    const context = req.body.context ?? {};
    await allow(svc, req, "datakey.generate", { keyName: req.body.keyName, context });
    const dk = randomBytes(DATA_KEY_BYTES);
    try {
      return { wrappedKey: toWireEntry(await store.wrap(req.principal, req.body.keyName, dk, context)) };
    } finally {
      dk.fill(0);
    }
  });
  route<Ctx & { keyName: string }>(app, "generate", async (req) => {
    const context = req.body.context ?? {};
    await allow(svc, req, "datakey.generate-plaintext", { keyName: req.body.keyName, context });
    const dk = randomBytes(DATA_KEY_BYTES);
    try {
      const entry = await store.wrap(req.principal, req.body.keyName, dk, context);
      return { wrappedKey: toWireEntry(entry), plaintext: dk.toString("base64") };
    } finally {
      dk.fill(0);
    }
  });
  route<UnwrapItem>(app, "unwrap", async (req) => ({ plaintext: await unwrapOne(svc, req, req.body) }));
  route<{ items: UnwrapItem[] }>(app, "unwrapBatch", async (req) => ({
    results: await settle(req.body.items.map((item) => () => unwrapOne(svc, req, item).then((plaintext) => ({ plaintext })))),
  }));
  route<Ctx & { wrappedKey: WireWrappedKey }>(app, "rewrap", async (req) => {
    const context = req.body.context ?? {};
    const w = req.body.wrappedKey;
    // the decision and the rewrap record commit in one transaction (Authorizer.authorizeWith)
    const entry = await svc.authz.authorizeWith(
      accessRequest(req, "rewrap", { keyName: w.keyName, keyVersion: w.keyVersion, context }),
      () => store.rewrap(req.principal, fromWireEntry(w, store.keyringId), context, { operation: "rewrap" }),
      () => undefined, // a wrapped entry is not secret
    );
    return { wrappedKey: toWireEntry(entry) };
  });
}

async function unwrapOne(svc: Service, req: FastifyRequest, item: UnwrapItem): Promise<string> {
  const context = item.context ?? {};
  const w = item.wrappedKey;
  const object: AuditObject = { operation: item.object?.operation ?? "unwrap", ...(item.object?.path ? { path: item.object.path } : {}), ...(item.object?.headerHash ? { headerHash: item.object.headerHash } : {}) };
  // one durable transaction per request: the allowed decision commits with the unwrap record
  const dk = await svc.authz.authorizeWith(
    accessRequest(req, "unwrap", { keyName: w.keyName, keyVersion: w.keyVersion, context, ...(object.path ? { objectPath: object.path } : {}) }),
    () => svc.store.unwrap(req.principal, fromWireEntry(w, svc.store.keyringId), context, object),
    (key) => key.fill(0),
  );
  try {
    return dk.toString("base64");
  } finally {
    dk.fill(0);
  }
}

/**
 * Runs batch items one after another (each decision and audit record in order) and reports
 * each item's result or typed error; an audit failure stops the batch (fail closed).
 */
export async function settle<T>(items: (() => Promise<T>)[]): Promise<(T | WireError["body"])[]> {
  const out: (T | WireError["body"])[] = [];
  for (const run of items) {
    try {
      out.push(await run());
    } catch (e) {
      const w = toWireError(e);
      if (w.status >= 500) throw e;
      out.push(w.body);
    }
  }
  return out;
}
