/**
 * The root key of the PostgreSQL store: the master.key file of a keystore home, a
 * passphrase (scrypt parameters kept in the database's `meta`), or any RootKey (an HSM).
 * The check value in `meta` refuses a wrong root with MASTER_KEY_WRONG.
 */
import { createHmac } from "node:crypto";
import type { verifyAuditChain } from "../../audit/verify.js";
import type { RootKey } from "../../keys/root-key.js";
import type { AuditMac } from "./pg-audit.js";

export type RootSource =
  | { readonly home: string }
  | { readonly passphrase: string }
  | { readonly rootKey: RootKey };

/**
 * The audit-chain MAC of a root key, and the argument the foundation's verifier takes.
 * Transitional: RootKey is moving from `auditKey` (bytes) to `auditMac(data)` (so an HSM can
 * keep the key); this accepts either shape. Both compute HMAC-SHA256 under the same sub-key.
 */
export function auditKeyOf(root: RootKey): { mac: AuditMac; verifyKey: Parameters<typeof verifyAuditChain>[1] } {
  const r = root as unknown as { auditMac?: (d: Buffer) => Buffer; auditKey?: Buffer };
  if (typeof r.auditMac === "function") {
    const mac: AuditMac = (d) => (r.auditMac as (d: Buffer) => Buffer).call(root, d);
    return { mac, verifyKey: mac as unknown as Parameters<typeof verifyAuditChain>[1] };
  }
  const key = r.auditKey as Buffer;
  return { mac: (d) => createHmac("sha256", key).update(d).digest(), verifyKey: key as unknown as Parameters<typeof verifyAuditChain>[1] };
}
