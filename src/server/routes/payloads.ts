/** Small payloads: encrypt / decrypt (single and batch) under fresh data keys. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { KEY_NAME_PATTERN } from "../../keys/names.js";
import { DATA_KEY_BYTES } from "../../keys/wrap-format.js";
import type { AuthorizedOp } from "../authz.js";
import { ServiceError, type WireError } from "../errors.js";
import { type PayloadParts, openPayload, parsePayload, sealPayload } from "../payload.js";
import { type Service, permit } from "../service.js";
import { fromB64 } from "../wire.js";
import { reportEach, settle, unwrapOp, wipe } from "./datakeys.js";
import { route } from "./register.js";
import { MAX_PAYLOAD_BYTES } from "../schemas.js";

type EncItem = { keyName: string; plaintext: string; context?: EncryptionContext };
type DecItem = { ciphertext: string; context?: EncryptionContext };
/** A well-formed decrypt item: its payload's parts, the wrapped data key they name, its context. */
type Parsed = { parts: PayloadParts; entry: WrappedKey; context: EncryptionContext };

export function payloadRoutes(app: FastifyInstance, svc: Service): void {
  route<EncItem>(app, "encrypt", async (req) => ({ ciphertext: await encryptOne(svc, req, req.body) }));
  route<DecItem>(app, "decrypt", async (req) => ({ plaintext: await decryptOne(svc, req, req.body) }));
  route<{ items: EncItem[] }>(app, "encryptBatch", async (req) => ({
    results: await settle(req.body.items.map((i) => () => encryptOne(svc, req, i).then((ciphertext) => ({ ciphertext })))),
  }));
  route<{ items: DecItem[] }>(app, "decryptBatch", async (req) => ({ results: await decryptEach(svc, req, req.body.items) }));
}

/** One record per payload: `encrypt` with its rule (the store does not audit a wrap), written before the ciphertext leaves. */
async function encryptOne(svc: Service, req: FastifyRequest, item: EncItem): Promise<string> {
  const context = item.context ?? {};
  return permit(svc, req, { keyName: item.keyName, context }, async (who) => {
    const pt = fromB64(item.plaintext, "plaintext");
    if (pt.length > MAX_PAYLOAD_BYTES) throw new ServiceError("LIMIT_EXCEEDED", `a payload is at most ${MAX_PAYLOAD_BYTES} bytes; seal larger data as a file`);
    const dk = randomBytes(DATA_KEY_BYTES);
    try {
      const entry = await svc.store.wrap(who, item.keyName, dk, context);
      return sealPayload(dk, entry.keyName, entry.keyVersion, entry.wrapped, pt, context).toString("base64");
    } finally {
      dk.fill(0);
    }
  });
}

async function decryptOne(svc: Service, req: FastifyRequest, item: DecItem): Promise<string> {
  // the key name the decision needs is inside the ciphertext, so its header is read first; the
  // gate (app.ts) has already refused, unparsed, every caller who may never decrypt
  const p = parseItem(svc, item);
  // one durable transaction and ONE record per request: the decrypt's own, carrying the rule
  const { req: access, op } = decryptOp(svc, req, p);
  const pt = await svc.authz.authorizeWith(access, op, wipe);
  try {
    return pt.toString("base64");
  } finally {
    pt.fill(0);
  }
}

/**
 * The decrypt batch as ONE transaction (Authorizer.authorizeEach): every item is parsed first
 * (a malformed one fails alone, unaudited, as a single decrypt would), then every well-formed
 * item's record (its decrypt with the rule, or its denial) commits together in item order, or none do and the
 * request fails with 503 and nothing is released. A payload that does not authenticate fails
 * alone, recorded as a failed decrypt. Plaintexts are wiped before returning.
 */
async function decryptEach(svc: Service, req: FastifyRequest, items: readonly DecItem[]): Promise<({ plaintext: string } | WireError["body"])[]> {
  const parsed = items.map((item) => settledSync(() => parseItem(svc, item)));
  const wellFormed = parsed.flatMap((p) => (p.status === "fulfilled" ? [p.value] : []));
  const plaintexts = await svc.authz.authorizeEach(
    wellFormed.map((p) => decryptOp(svc, req, p)),
    wipe,
  );
  let k = 0;
  const opened = parsed.map((p) => (p.status === "rejected" ? p : plaintexts[k++]));
  return reportEach(opened, (pt) => ({ plaintext: pt.toString("base64") }), wipe);
}

/** @throws ServiceError(INVALID_ARGUMENT) when the ciphertext is not a /v1/encrypt ciphertext. */
function parseItem(svc: Service, item: DecItem): Parsed {
  const parts = parsePayload(fromB64(item.ciphertext, "ciphertext"));
  if (!KEY_NAME_PATTERN.test(parts.keyName) || parts.keyVersion < 1) throw new ServiceError("INVALID_ARGUMENT", "not a /v1/encrypt ciphertext");
  const entry = { keyring: svc.store.keyringId, keyName: parts.keyName, keyVersion: parts.keyVersion, wrapped: parts.wrapped };
  return { parts, entry, context: item.context ?? {} };
}

/** Its plaintext, opened inside the audited unwrap (a payload that does not authenticate: DecryptError(DECRYPT_FAILED)). */
function decryptOp(svc: Service, req: FastifyRequest, p: Parsed): AuthorizedOp<Buffer> {
  return unwrapOp(svc, req, p.entry, p.context, { operation: "decrypt" }, (dk) => openPayload(dk, p.parts, p.context));
}

function settledSync<T>(run: () => T): PromiseSettledResult<T> {
  try {
    return { status: "fulfilled", value: run() };
  } catch (reason) {
    return { status: "rejected", reason };
  }
}
