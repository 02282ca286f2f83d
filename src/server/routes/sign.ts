/** Sign / verify (Ed25519, ECDSA P-256) and HMAC under keys derived from a named key version. */
import { createHmac, sign, timingSafeEqual, verify } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ServiceError } from "../errors.js";
import { type Service, canDerive, permit } from "../service.js";
import type { Attributed } from "../store/actor.js";
import { PURPOSE, SEED_BYTES, type SignAlgorithm, publicPem, signingKey } from "../signing.js";
import { fromB64 } from "../wire.js";
import { route, routeOperation } from "./register.js";

export function signRoutes(app: FastifyInstance, svc: Service): void {
  // the derivation is the operation's one record (its name is the route table's op, with the rule)
  const derive = async (req: FastifyRequest, who: Attributed, keyName: string, version: number | "primary", purpose: string, length: number) => {
    const store = svc.store;
    const operation = routeOperation(req);
    if (!canDerive(store)) throw new ServiceError("INVALID_ARGUMENT", `${operation} is not available with the ${store.kind} store yet`);
    return store.deriveKey(who, keyName, version, purpose, { operation }, length);
  };
  const wipe = (d: { key: Buffer }) => d.key.fill(0);
  /**
   * The input, parsed inside the operation: after the decision (docs/keyservice.md step 0) and
   * before the store is called, so a malformed one is an operation that failed before it started
   * (recorded as the decision with INVALID_ARGUMENT), never an `ok` derivation. `run` calls the store synchronously.
   */
  const after = <D, T>(parse: () => D, run: () => Promise<T>): Promise<T & { data: D }> => {
    const data = parse();
    return run().then((d) => ({ ...d, data }));
  };

  route<{ keyName: string; keyVersion?: number; data: string }>(app, "hmac", async (req) => {
    const { keyName, keyVersion } = req.body;
    const { key, version, data } = await permit(
      svc,
      req,
      { keyName, ...(keyVersion ? { keyVersion } : {}) },
      (who) =>
        after(
          () => fromB64(req.body.data, "data"),
          () => derive(req, who, keyName, keyVersion ?? "primary", PURPOSE.hmac, 32),
        ),
      { discard: wipe },
    );
    const mac = createHmac("sha256", key).update(data).digest("base64");
    key.fill(0);
    return { mac, keyVersion: version };
  });
  route<{ keyName: string; keyVersion: number; data: string; mac: string }>(app, "hmacVerify", async (req) => {
    const { keyName, keyVersion } = req.body;
    const {
      key,
      data: [data, given],
    } = await permit(
      svc,
      req,
      { keyName, keyVersion },
      (who) =>
        after(
          () => [fromB64(req.body.data, "data"), fromB64(req.body.mac, "mac")] as const,
          () => derive(req, who, keyName, keyVersion, PURPOSE.hmac, 32),
        ),
      { discard: wipe },
    );
    const want = createHmac("sha256", key).update(data).digest();
    key.fill(0);
    return { valid: given.length === want.length && timingSafeEqual(given, want) };
  });
  route<{ keyName: string; algorithm: SignAlgorithm; message: string }>(app, "sign", async (req) => {
    const { keyName, algorithm } = req.body;
    const {
      key: seed,
      version,
      data: message,
    } = await permit(
      svc,
      req,
      { keyName },
      (who) =>
        after(
          () => fromB64(req.body.message, "message"),
          () => derive(req, who, keyName, "primary", PURPOSE[algorithm], SEED_BYTES[algorithm]),
        ),
      { discard: wipe },
    );
    const priv = signingKey(algorithm, seed);
    seed.fill(0);
    // Ed25519 signs the message itself (RFC 8032); ECDSA over SHA-256, DER-encoded signature
    const signature = sign(algorithm === "ed25519" ? null : "sha256", message, priv).toString("base64");
    return { signature, keyVersion: version, algorithm };
  });
  route<{ keyName: string; keyVersion: number; algorithm: SignAlgorithm; message: string; signature: string }>(app, "verify", async (req) => {
    const { keyName, keyVersion, algorithm } = req.body;
    const {
      key: seed,
      data: [message, signature],
    } = await permit(
      svc,
      req,
      { keyName, keyVersion },
      (who) =>
        after(
          () => [fromB64(req.body.message, "message"), fromB64(req.body.signature, "signature")] as const,
          () => derive(req, who, keyName, keyVersion, PURPOSE[algorithm], SEED_BYTES[algorithm]),
        ),
      { discard: wipe },
    );
    const priv = signingKey(algorithm, seed);
    seed.fill(0);
    let valid: boolean;
    try {
      valid = verify(algorithm === "ed25519" ? null : "sha256", message, priv, signature);
    } catch {
      valid = false;
    }
    return { valid };
  });
  route<{ keyName: string; keyVersion: number; algorithm: SignAlgorithm }>(app, "publicKey", async (req) => {
    const { keyName, keyVersion, algorithm } = req.body;
    const { key: seed } = await permit(
      svc,
      req,
      { keyName, keyVersion },
      (who) => derive(req, who, keyName, keyVersion, PURPOSE[algorithm], SEED_BYTES[algorithm]),
      { discard: wipe },
    );
    const pem = publicPem(signingKey(algorithm, seed));
    seed.fill(0);
    return { publicKey: pem, keyVersion, algorithm };
  });
}
