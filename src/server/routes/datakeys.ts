/** Data keys: wrap, generate (wrapped only / with plaintext), unwrap (single and batch), rewrap. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditObject, EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { UsageError } from "../../errors.js";
import { DATA_KEY_BYTES } from "../../keys/wrap-format.js";
import type { AuthorizedOp, OnBehalfOf } from "../authz.js";
import { onBehalfOf } from "../delegation.js";
import { type Service, permit, permitItem } from "../service.js";
import { type WireError, toWireError } from "../errors.js";
import { type WireTarget, type WireWrappedKey, fromB64, fromWireEntry, fromWireTarget, toWireEntry } from "../wire.js";
import { route } from "./register.js";
import type { OpenWithKey } from "../store/types.js";

type Ctx = { context?: EncryptionContext };
type UnwrapItem = Ctx & { wrappedKey: WireWrappedKey; object?: Partial<AuditObject>; onBehalfOf?: string; onBehalfToken?: string };
type FailedUse = UnwrapItem & { errorCode: string };

export function dataKeyRoutes(app: FastifyInstance, svc: Service): void {
  const { store } = svc;
  // wrapping a caller's key releases nothing: the same permission as a wrapped-only data key (the route table's op)
  route<Ctx & { keyName: string; dataKey: string; objectId?: string }>(app, "wrap", async (req) => {
    const context = req.body.context ?? {};
    const entry = await permit(svc, req, { keyName: req.body.keyName, context }, async (who) => {
      const dk = fromB64(req.body.dataKey, "dataKey");
      try {
        const objectId = req.body.objectId === undefined ? undefined : Buffer.from(req.body.objectId, "hex");
        return await store.wrap(who, req.body.keyName, dk, context, objectId);
      } finally {
        dk.fill(0);
      }
    });
    return { wrappedKey: toWireEntry(entry) };
  });
  route<Ctx & { keyName: string }>(app, "generateWrapped", async (req) => {
    const context = req.body.context ?? {};
    const entry = await permit(svc, req, { keyName: req.body.keyName, context }, async (who) => {
      const dk = randomBytes(DATA_KEY_BYTES);
      try {
        return await store.wrap(who, req.body.keyName, dk, context);
      } finally {
        dk.fill(0);
      }
    });
    return { wrappedKey: toWireEntry(entry) };
  });
  route<Ctx & { keyName: string }>(app, "generate", async (req) => {
    const context = req.body.context ?? {};
    // the plaintext leaves only after the operation's record (with its rule) committed
    const made = await permit(
      svc,
      req,
      { keyName: req.body.keyName, context },
      async (who) => {
        const dk = randomBytes(DATA_KEY_BYTES);
        try {
          return { entry: await store.wrap(who, req.body.keyName, dk, context), dk };
        } catch (e) {
          dk.fill(0);
          throw e;
        }
      },
      { discard: (m) => m.dk.fill(0) },
    );
    try {
      return { wrappedKey: toWireEntry(made.entry), plaintext: made.dk.toString("base64") };
    } finally {
      made.dk.fill(0);
    }
  });
  route<UnwrapItem>(app, "unwrap", async (req) => {
    // one durable transaction and ONE record per request: the unwrap's own, carrying the rule
    const { req: access, op } = unwrapItem(svc, req, req.body, await onBehalfOf(svc, req, req.body));
    const dk = await svc.authz.authorizeWith(access, op, wipe);
    try {
      return { plaintext: dk.toString("base64") };
    } finally {
      dk.fill(0);
    }
  });
  route<{ items: UnwrapItem[] }>(app, "unwrapBatch", async (req) => {
    // one transaction for the whole batch: every item's record (its unwrap with the rule, or its denial), or none
    const delegated = await Promise.all(req.body.items.map((item) => onBehalfOf(svc, req, item)));
    const keys = await svc.authz.authorizeEach(
      req.body.items.map((item, i) => unwrapItem(svc, req, item, delegated[i])),
      wipe,
    );
    return { results: reportEach(keys, (dk) => ({ plaintext: dk.toString("base64") }), wipe) };
  });
  // a client's report that what an unwrap (or rewrap) was for then failed: decided as the
  // operation it follows (the route table's op); the record is the caller's own, so a client
  // can add evidence against itself, never remove any
  const failed = (kind: "unwrap" | "rewrap") => async (req: FastifyRequest & { body: FailedUse }) => {
    const { wrappedKey: w, errorCode } = req.body;
    const context = req.body.context ?? {};
    const object = kind === "rewrap" ? { operation: kind } : auditObject(req.body.object);
    if (kind === "unwrap" && object.operation === "rewrap") throw new UsageError("INVALID_ARGUMENT", "a rewrap's failure is reported at /v1/rewrap/failed");
    await permit(svc, req, { keyName: w.keyName, keyVersion: w.keyVersion, context, ...(object.path ? { objectPath: object.path } : {}) }, (who) =>
      store.recordFailedUse(who, fromWireEntry(w, store.keyringId), context, object, errorCode),
    );
    return { recorded: true };
  };
  route<FailedUse>(app, "unwrapFailed", failed("unwrap"));
  route<FailedUse>(app, "rewrapFailed", failed("rewrap"));
  route<Ctx & { wrappedKey: WireWrappedKey; upgrade?: WireTarget }>(app, "rewrap", async (req) => {
    const context = req.body.context ?? {};
    const w = req.body.wrappedKey;
    // one record: the rewrap's, carrying the rule (a wrapped entry is not secret: nothing to discard)
    const entry = await permit(svc, req, { keyName: w.keyName, keyVersion: w.keyVersion, context }, (who) =>
      store.rewrap(who, fromWireEntry(w, store.keyringId), context, { operation: "rewrap" }, req.body.upgrade ? fromWireTarget(req.body.upgrade) : undefined),
    );
    return { wrappedKey: toWireEntry(entry) };
  });
}

function unwrapItem(svc: Service, req: FastifyRequest, item: UnwrapItem, on: OnBehalfOf | undefined): AuthorizedOp<Buffer> {
  return unwrapOp(svc, req, item.wrappedKey, item.context ?? {}, auditObject(item.object), undefined, on);
}

/** The audit object a client names (operation "unwrap" when it names none). */
function auditObject(o: Partial<AuditObject> | undefined): AuditObject {
  return { operation: o?.operation ?? "unwrap", ...(o?.path ? { path: o.path } : {}), ...(o?.headerHash ? { headerHash: o.headerHash } : {}) };
}

/**
 * The unwrap of `entry`, authorized as the route's operation for the request's caller: the
 * access request and the store call it allows, for Authorizer.authorizeWith / authorizeEach.
 * A wire entry is decoded inside the store call, so a malformed one fails only its own item,
 * recorded as the decision with its error (it failed before the unwrap started). With `open`,
 * the key is used inside the unwrap (KeyStore.unwrap).
 */
export function unwrapOp(
  svc: Service,
  req: FastifyRequest,
  entry: WireWrappedKey | WrappedKey,
  context: EncryptionContext,
  object: AuditObject,
  open?: OpenWithKey,
  on?: OnBehalfOf,
): AuthorizedOp<Buffer> {
  // a delegated unwrap's record names the identity it was for, and carries the delegate and the delegation (authz.ts `attributed`)
  return permitItem(
    req,
    { keyName: entry.keyName, keyVersion: entry.keyVersion, context, ...(object.path ? { objectPath: object.path } : {}) },
    (who) => svc.store.unwrap(who, "keyring" in entry ? entry : fromWireEntry(entry, svc.store.keyringId), context, object, open),
    on,
  );
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
