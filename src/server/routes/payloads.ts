/** Small payloads: encrypt / decrypt (single and batch) under fresh data keys. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { EncryptionContext } from "../../keys/keyring.js";
import { KEY_NAME_PATTERN } from "../../keys/names.js";
import { DATA_KEY_BYTES } from "../../keys/wrap-format.js";
import { ServiceError } from "../errors.js";
import { openPayload, parsePayload, sealPayload } from "../payload.js";
import { type Service, allow } from "../service.js";
import { fromB64 } from "../wire.js";
import { settle, unwrapOp, wipe } from "./datakeys.js";
import { route } from "./register.js";
import { MAX_PAYLOAD_BYTES } from "../schemas.js";

type EncItem = { keyName: string; plaintext: string; context?: EncryptionContext };
type DecItem = { ciphertext: string; context?: EncryptionContext };

export function payloadRoutes(app: FastifyInstance, svc: Service): void {
  route<EncItem>(app, "encrypt", async (req) => ({ ciphertext: await encryptOne(svc, req, req.body) }));
  route<DecItem>(app, "decrypt", async (req) => ({ plaintext: await decryptOne(svc, req, req.body) }));
  route<{ items: EncItem[] }>(app, "encryptBatch", async (req) => ({ results: await settle(req.body.items.map((i) => () => encryptOne(svc, req, i).then((ciphertext) => ({ ciphertext })))) }));
  route<{ items: DecItem[] }>(app, "decryptBatch", async (req) => ({ results: await settle(req.body.items.map((i) => () => decryptOne(svc, req, i).then((plaintext) => ({ plaintext })))) }));
}

async function encryptOne(svc: Service, req: FastifyRequest, item: EncItem): Promise<string> {
  const context = item.context ?? {};
  await allow(svc, req, "encrypt", { keyName: item.keyName, context });
  const pt = fromB64(item.plaintext, "plaintext");
  if (pt.length > MAX_PAYLOAD_BYTES) throw new ServiceError("LIMIT_EXCEEDED", `a payload is at most ${MAX_PAYLOAD_BYTES} bytes; seal larger data as a file`);
  const dk = randomBytes(DATA_KEY_BYTES);
  try {
    const entry = await svc.store.wrap(req.principal, item.keyName, dk, context);
    return sealPayload(dk, entry.keyName, entry.keyVersion, entry.wrapped, pt, context).toString("base64");
  } finally {
    dk.fill(0);
  }
}

async function decryptOne(svc: Service, req: FastifyRequest, item: DecItem): Promise<string> {
  const context = item.context ?? {};
  const parts = parsePayload(fromB64(item.ciphertext, "ciphertext"));
  if (!KEY_NAME_PATTERN.test(parts.keyName) || parts.keyVersion < 1) throw new ServiceError("INVALID_ARGUMENT", "not a /v1/encrypt ciphertext");
  // one durable transaction per request: the allowed decision commits with the unwrap record
  const entry = { keyring: svc.store.keyringId, keyName: parts.keyName, keyVersion: parts.keyVersion, wrapped: parts.wrapped };
  const { req: access, op } = unwrapOp(svc, req, "decrypt", entry, context, { operation: "decrypt" });
  const dk = await svc.authz.authorizeWith(access, op, wipe);
  try {
    const pt = openPayload(dk, parts, context);
    const out = pt.toString("base64");
    pt.fill(0);
    return out;
  } finally {
    dk.fill(0);
  }
}
