/**
 * The keystore's anchor signing key: an Ed25519 key pair derived from the audit key, so it
 * needs no storage, is the same on every replica of a key service, and cannot be swapped by
 * whoever writes the database (restoring an old keystore.db does not change it).
 *
 *   seed = HKDF-Expand(PRK = auditKey, info = "pipeseal/v1/audit-anchor-ed25519", L = 32)
 *        = HMAC-SHA256(auditKey, info || 0x01)                     (RFC 5869 §2.3, T(1))
 *
 * The audit key is a uniformly random 32-byte key (an HKDF output of the root, or an HSM
 * HMAC key), so it is a valid PRK without Extract. The HMAC is computed by whoever holds the
 * key (an HSM computes it inside the token); the seed is then in memory while signing.
 * The key id is the hex SHA-256 of the public key's SubjectPublicKeyInfo DER.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import type { AuditKey } from "./chain.js";

const INFO = Buffer.from("pipeseal/v1/audit-anchor-ed25519", "utf8");
/** RFC 8410 §7: PKCS#8 PrivateKeyInfo of an Ed25519 key, before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface AnchorKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Hex SHA-256 of the SPKI DER. */
  readonly keyId: string;
}

export function deriveAnchorKey(auditKey: AuditKey): AnchorKey {
  const input = Buffer.concat([INFO, Buffer.of(1)]);
  const seed = typeof auditKey === "function" ? auditKey(input) : createHmac("sha256", auditKey).update(input).digest();
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  try {
    const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    const publicKey = createPublicKey(privateKey);
    return { privateKey, publicKey, keyId: anchorKeyId(publicKey) };
  } finally {
    seed.fill(0);
    der.fill(0);
  }
}

/** Hex SHA-256 of a public key's SPKI DER. */
export function anchorKeyId(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

/** The public key as SPKI PEM (what `pipeseal audit anchor --export-key` writes). */
export function anchorPublicKeyPem(key: AnchorKey): string {
  return key.publicKey.export({ type: "spki", format: "pem" }) as string;
}
