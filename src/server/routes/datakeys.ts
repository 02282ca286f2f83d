/** Data keys: wrap, generate (wrapped only / with plaintext), unwrap (single and batch), rewrap. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditObject, EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { UsageError } from "../../errors.js";
import { DATA_KEY_BYTES } from "../../keys/wrap-format.js";
import { type AuthorizedOp, type OnBehalfOf, accessRequest } from "../authz.js";
import { onBehalfOf } from "../delegation.js";
import { type Service, allow } from "../service.js";
import { type WireError, toWireError } from "../errors.js";
import { type WireTarget, type WireWrappedKey, fromB64, fromWireEntry, fromWireTarget, toWireEntry } from "../wire.js";
import { route } from "./register.js";
import type { OpenWithKey } from "../store/types.js";

type Ctx = { context?: EncryptionContext };
type UnwrapItem = Ctx & { wrappedKey: WireWrappedKey; object?: Partial<AuditObject>; onBehalfOf?: string; onBehalfToken?: string };
type FailedUse = UnwrapItem & { errorCode: string };

export function dataKeyRoutes(app: FastifyInstance, svc: Service): void {
  const { store } = svc;
  route<Ctx & { keyName: string; dataKey: string; objectId?: string }>(app, "wrap", async (req) => {
    const context = req.body.context ?? {};
    // wrapping a caller's key releases nothing: the same permission as a wrapped-only data key
    await allow(svc, req, "datakey.generate", { keyName: req.body.keyName, context });
    const dk = fromB64(req.body.dataKey, "dataKey");
    try {
      const objectId = req.body.objectId === undefined ? undefined : Buffer.from(req.body.objectId, "hex");
      return { wrappedKey: toWireEntry(await store.wrap(req.principal, req.body.keyName, dk, context, objectId)) };
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
  route<UnwrapItem>(app, "unwrap", async (req) => {
    // one durable transaction per request: the allowed decision commits with the unwrap record
    const { req: access, op } = unwrapItem(svc, req, req.body, await onBehalfOf(svc, req, req.body));
    const dk = await svc.authz.authorizeWith(access, op, wipe);
    try {
      return { plaintext: dk.toString("base64") };
    } finally {
      dk.fill(0);
    }
  });
  route<{ items: UnwrapItem[] }>(app, "unwrapBatch", async (req) => {
    // one transaction for the whole batch: every item's decision and unwrap record, or none
    const delegated = await Promise.all(req.body.items.map((item) => onBehalfOf(svc, req, item)));
    const keys = await svc.authz.authorizeEach(req.body.items.map((item, i) => unwrapItem(svc, req, item, delegated[i])), wipe);
    return { results: reportEach(keys, (dk) => ({ plaintext: dk.toString("base64") }), wipe) };
  });
  // a client's report that what an unwrap (or rewrap) was for then failed: decided as the
  // operation it follows; the record is the caller's own, so a client can add evidence
  // against itself, never remove any
  const failed = (operation: "unwrap" | "rewrap") => async (req: FastifyRequest & { body: FailedUse }) => {
    const { wrappedKey: w, errorCode } = req.body;
    const context = req.body.context ?? {};
    const object = operation === "rewrap" ? { operation } : auditObject(req.body.object);
    if (operation === "unwrap" && object.operation === "rewrap") throw new UsageError("INVALID_ARGUMENT", "a rewrap's failure is reported at /v1/rewrap/failed");
    await svc.authz.authorizeWith(
      accessRequest(req, operation, { keyName: w.keyName, keyVersion: w.keyVersion, context, ...(object.path ? { objectPath: object.path } : {}) }),
      () => store.recordFailedUse(req.principal, fromWireEntry(w, store.keyringId), context, object, errorCode),
      () => undefined,
    );
    return { recorded: true };
  };
  route<FailedUse>(app, "unwrapFailed", failed("unwrap"));
  route<FailedUse>(app, "rewrapFailed", failed("rewrap"));
  route<Ctx & { wrappedKey: WireWrappedKey; upgrade?: WireTarget }>(app, "rewrap", async (req) => {
    const context = req.body.context ?? {};
    const w = req.body.wrappedKey;
    // the decision and the rewrap record commit in one transaction (Authorizer.authorizeWith)
    const entry = await svc.authz.authorizeWith(
      accessRequest(req, "rewrap", { keyName: w.keyName, keyVersion: w.keyVersion, context }),
      () => store.rewrap(req.principal, fromWireEntry(w, store.keyringId), context, { operation: "rewrap" }, req.body.upgrade ? fromWireTarget(req.body.upgrade) : undefined),
      () => undefined, // a wrapped entry is not secret
    );
    return { wrappedKey: toWireEntry(entry) };
  });
}

function unwrapItem(svc: Service, req: FastifyRequest, item: UnwrapItem, on: OnBehalfOf | undefined): AuthorizedOp<Buffer> {
  return unwrapOp(svc, req, "unwrap", item.wrappedKey, item.context ?? {}, auditObject(item.object), undefined, on);
}

/** The audit object a client names (operation "unwrap" when it names none). */
function auditObject(o: Partial<AuditObject> | undefined): AuditObject {
  return { operation: o?.operation ?? "unwrap", ...(o?.path ? { path: o.path } : {}), ...(o?.headerHash ? { headerHash: o.headerHash } : {}) };
}

/**
 * The unwrap of `entry`, authorized as `operation` for the request's caller: the access
 * request and the store call it allows, for Authorizer.authorizeWith / authorizeEach. A wire
 * entry is decoded inside the store call, so a malformed one is refused after its decision
 * is recorded, and only its own item fails.
 */
/** The decision and the unwrap it allows; with `open`, the key is used inside the unwrap (KeyStore.unwrap). */
export function unwrapOp(svc: Service, req: FastifyRequest, operation: string, entry: WireWrappedKey | WrappedKey, context: EncryptionContext, object: AuditObject, open?: OpenWithKey, on?: OnBehalfOf): AuthorizedOp<Buffer> {
  return {
    req: accessRequest(req, operation, { keyName: entry.keyName, keyVersion: entry.keyVersion, context, ...(object.path ? { objectPath: object.path } : {}), ...(on ? { onBehalfOf: on } : {}) }),
    // a delegated unwrap's record names the identity it was for (the decision record, committed with it, names the delegate too)
    op: () => svc.store.unwrap(on?.identity ?? req.principal, "keyring" in entry ? entry : fromWireEntry(entry, svc.store.keyringId), context, object, open),
  };
}

/** Wipes a data key the service will not send. */
export function wipe(key: Uint8Array): void {
  key.fill(0);
}

/**
 * The answer of a batch that ran as one group (Authorizer.authorizeEach): each item's result
 * or typed error, in order. A server-side failure (5xx) of any item fails the whole request
 * (fail closed); either way every value is handed to `release` (wiped) before this returns.
 */
export function reportEach<T, A>(results: readonly PromiseSettledResult<T>[], answer: (value: T) => A, release: (value: T) => void): (A | WireError["body"])[] {
  try {
    const failed = results.find((r) => r.status === "rejected" && toWireError(r.reason).status >= 500);
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return results.map((r) => (r.status === "fulfilled" ? answer(r.value) : toWireError(r.reason).body));
  } finally {
    for (const r of results) if (r.status === "fulfilled") release(r.value);
  }
}

/**
 * Runs batch items one after another (each item its own decision and commit) and reports
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
