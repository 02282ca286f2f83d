/**
 * The root key of the PostgreSQL store: the master.key file of a keystore home, a
 * passphrase (scrypt parameters kept in the database's `meta`), or any RootKey (an HSM).
 * The check value in `meta` refuses a wrong root with MASTER_KEY_WRONG.
 */
import type { AuditKey } from "../../audit/chain.js";
import type { RootKey } from "../../keys/root-key.js";
import type { AuditMac } from "./pg-audit.js";

export type RootSource = { readonly home: string } | { readonly passphrase: string } | { readonly rootKey: RootKey };

const AUDIT_KEYS = new WeakMap<RootKey, { mac: AuditMac; verifyKey: AuditKey }>();

/**
 * The audit-chain MAC of a root key (RootKey.auditMac), and the same function as the verifier's
 * key. One function per root, so what is recorded about it (pg-audit.ts markUnsealed) holds for
 * every caller that asks.
 */
export function auditKeyOf(root: RootKey): { mac: AuditMac; verifyKey: AuditKey } {
  let key = AUDIT_KEYS.get(root);
  if (key === undefined) {
    const mac: AuditMac = (d) => root.auditMac(d);
    key = { mac, verifyKey: mac };
    AUDIT_KEYS.set(root, key);
  }
  return key;
}
