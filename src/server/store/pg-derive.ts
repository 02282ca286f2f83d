/**
 * Field/derived keys on PostgreSQL, as LocalKeystore.deriveFieldKey: HKDF-SHA-256 (RFC 5869)
 * from the version's KEK, empty salt, info = "pipeseal-field-v1" || purpose. The key is
 * derived and its record appended in one transaction; it is returned only after COMMIT.
 */
import type pg from "pg";
import type { AuditEvent } from "../../audit/types.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { type AuditMac, appendAuditTx } from "./pg-audit.js";
import { checkUnwrappable, requireKeyPg, requireVersionPg } from "./pg-keys.js";
import { inTx } from "./pg-tx.js";
import { type DeriveRequest, fieldKeyFromKek } from "../../keys/field-key.js";

/**
 * Derives and records in one transaction. On a throw, `state.derived` (if set) must be wiped
 * and `state.version` is the version reached (for the failure record).
 */
export async function deriveTx(
  pool: pg.Pool,
  root: RootKey,
  seal: StateSeal,
  mac: AuditMac,
  nowMs: () => number,
  r: DeriveRequest,
  event: AuditEvent,
  state: { derived?: Buffer; version: number },
): Promise<void> {
  await inTx(pool, async (c) => {
    const key = await requireKeyPg(c, seal, r.keyName);
    state.version = r.version === "primary" ? key.primary_version : r.version;
    const row = await requireVersionPg(c, seal, key, state.version);
    const kek = root.openKek(r.keyName, state.version, checkUnwrappable(seal, r.keyName, key, row));
    try {
      state.derived = fieldKeyFromKek(kek, r.purpose, r.length);
    } finally {
      kek.fill(0);
    }
    await appendAuditTx(c, mac, { ...event, keyVersion: state.version }, nowMs());
  });
}
