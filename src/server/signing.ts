/**
 * Signing and HMAC keys derived from a named key's version (no separate signing-key store
 * exists yet): the store derives a secret per (key, version, purpose) with HKDF-SHA-256
 * (RFC 5869; LocalKeystore.deriveFieldKey), audited like an unwrap, and the key pair follows
 * deterministically, so the same version always signs with the same key.
 *
 * - Ed25519 (RFC 8032 §5.1.5): the 32-byte derived secret is the private key seed.
 * - ECDSA P-256 (FIPS 186-5 §A.2.1, "extra random bits"): d = (c mod (n − 1)) + 1 with c a
 *   48-byte derived secret, which keeps the bias below 2^-128; the public point is d·G.
 * - HMAC-SHA-256 (RFC 2104) with a 32-byte derived key.
 *
 * Purposes are distinct strings, so the HMAC key, the two signing keys, the token key and
 * field keys of one version are independent.
 */
import { type KeyObject, createECDH, createPrivateKey, createPublicKey } from "node:crypto";

export type SignAlgorithm = "ed25519" | "ecdsa-p256";

export const PURPOSE = { hmac: "hmac-sha256", ed25519: "sign-ed25519", "ecdsa-p256": "sign-ecdsa-p256", token: "bearer-token" } as const;
export const SEED_BYTES: Record<SignAlgorithm, number> = { ed25519: 32, "ecdsa-p256": 48 };

const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex"); // RFC 8410 §7
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The private key of `alg` from its derived seed. The seed buffer is not kept. */
export function signingKey(alg: SignAlgorithm, seed: Buffer): KeyObject {
  if (alg === "ed25519") return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
  const c = BigInt("0x" + seed.toString("hex"));
  const d = Buffer.from(((c % (P256_N - 1n)) + 1n).toString(16).padStart(64, "0"), "hex");
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 0x04 || X || Y
  const jwk = {
    kty: "EC",
    crv: "P-256",
    d: d.toString("base64url"),
    x: pub.subarray(1, 33).toString("base64url"),
    y: pub.subarray(33, 65).toString("base64url"),
  };
  d.fill(0);
  return createPrivateKey({ key: jwk, format: "jwk" });
}

export function publicPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
}
