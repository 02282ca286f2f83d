/** Sign / verify (Ed25519, ECDSA P-256) and HMAC under keys derived from a named key version. */
import { createHmac, sign, timingSafeEqual, verify } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ServiceError } from "../errors.js";
import { type Service, allow, canDerive } from "../service.js";
import { PURPOSE, SEED_BYTES, type SignAlgorithm, publicPem, signingKey } from "../signing.js";
import { fromB64 } from "../wire.js";
import { route } from "./register.js";

export function signRoutes(app: FastifyInstance, svc: Service): void {
  const derive = async (req: FastifyRequest, keyName: string, version: number | "primary", purpose: string, operation: string, length: number) => {
    const store = svc.store;
    if (!canDerive(store)) throw new ServiceError("INVALID_ARGUMENT", `${operation} is not available with the ${store.kind} store yet`);
    return store.deriveKey(req.principal, keyName, version, purpose, { operation }, length);
  };

  route<{ keyName: string; keyVersion?: number; data: string }>(app, "hmac", async (req) => {
    const { keyName, keyVersion } = req.body;
    await allow(svc, req, "hmac", { keyName, ...(keyVersion ? { keyVersion } : {}) });
    const data = fromB64(req.body.data, "data");
    const { key, version } = await derive(req, keyName, keyVersion ?? "primary", PURPOSE.hmac, "hmac", 32);
    const mac = createHmac("sha256", key).update(data).digest("base64");
    key.fill(0);
    return { mac, keyVersion: version };
  });
  route<{ keyName: string; keyVersion: number; data: string; mac: string }>(app, "hmacVerify", async (req) => {
    const { keyName, keyVersion } = req.body;
    await allow(svc, req, "hmac", { keyName, keyVersion });
    const data = fromB64(req.body.data, "data");
    const given = fromB64(req.body.mac, "mac");
    const { key } = await derive(req, keyName, keyVersion, PURPOSE.hmac, "hmac", 32);
    const want = createHmac("sha256", key).update(data).digest();
    key.fill(0);
    return { valid: given.length === want.length && timingSafeEqual(given, want) };
  });
  route<{ keyName: string; algorithm: SignAlgorithm; message: string }>(app, "sign", async (req) => {
    const { keyName, algorithm } = req.body;
    await allow(svc, req, "sign", { keyName });
    const message = fromB64(req.body.message, "message");
    const { key: seed, version } = await derive(req, keyName, "primary", PURPOSE[algorithm], "sign", SEED_BYTES[algorithm]);
    const priv = signingKey(algorithm, seed);
    seed.fill(0);
    // Ed25519 signs the message itself (RFC 8032); ECDSA over SHA-256, DER-encoded signature
    const signature = sign(algorithm === "ed25519" ? null : "sha256", message, priv).toString("base64");
    return { signature, keyVersion: version, algorithm };
  });
  route<{ keyName: string; keyVersion: number; algorithm: SignAlgorithm; message: string; signature: string }>(app, "verify", async (req) => {
    const { keyName, keyVersion, algorithm } = req.body;
    await allow(svc, req, "verify", { keyName, keyVersion });
    const message = fromB64(req.body.message, "message");
    const signature = fromB64(req.body.signature, "signature");
    const { key: seed } = await derive(req, keyName, keyVersion, PURPOSE[algorithm], "verify", SEED_BYTES[algorithm]);
    const priv = signingKey(algorithm, seed);
    seed.fill(0);
    let valid = false;
    try {
      valid = verify(algorithm === "ed25519" ? null : "sha256", message, priv, signature);
    } catch {
      valid = false;
    }
    return { valid };
  });
  route<{ keyName: string; keyVersion: number; algorithm: SignAlgorithm }>(app, "publicKey", async (req) => {
    const { keyName, keyVersion, algorithm } = req.body;
    await allow(svc, req, "verify", { keyName, keyVersion });
    const { key: seed } = await derive(req, keyName, keyVersion, PURPOSE[algorithm], "verify", SEED_BYTES[algorithm]);
    const pem = publicPem(signingKey(algorithm, seed));
    seed.fill(0);
    return { publicKey: pem, keyVersion, algorithm };
  });
}
