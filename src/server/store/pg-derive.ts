/**
 * Field/derived keys on PostgreSQL, as LocalKeystore.deriveFieldKey: HKDF-SHA-256 (RFC 5869)
 * from the version's KEK, empty salt, info = "pipeseal-field-v1" || purpose. The key is
 * derived and its record appended in one transaction; it is returned only after COMMIT.
 */
import type pg from "pg";
import type { AuditEvent } from "../../audit/types.js";
import { UsageError } from "../../errors.js";
import type { AuditObject } from "../../keys/keyring.js";
import { dataOperation, validateKeyName, validateVersion } from "../../keys/names.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { type AuditMac, appendAuditTx } from "./pg-audit.js";
import { checkUnwrappable, requireKeyPg, requireVersionPg } from "./pg-keys.js";
import { inTx } from "./pg-tx.js";
import { FIELD_OPERATIONS, fieldKeyFromKek } from "../../keys/field-key.js";

export interface DeriveRequest {
  readonly principal: string;
  readonly keyName: string;
  readonly version: number | "primary";
  readonly purpose: string;
  readonly object: AuditObject;
  readonly length: number;
}

/** The `ok` event of a derivation, after validating the request. @throws UsageError(INVALID_ARGUMENT) */
export function deriveEvent(r: DeriveRequest): AuditEvent {
  validateKeyName(r.keyName);
  const operation = dataOperation(r.object, FIELD_OPERATIONS);
  if (typeof r.purpose !== "string" || !/^[a-z0-9][a-z0-9.:-]{0,63}$/.test(r.purpose)) throw new UsageError("INVALID_ARGUMENT", "invalid field-key purpose");
  if (!Number.isInteger(r.length) || r.length < 32 || r.length > 64) throw new UsageError("INVALID_ARGUMENT", "a field key is 32 to 64 bytes");
  if (r.version !== "primary") validateVersion(r.version);
  return {
    operation,
    principal: r.principal,
    outcome: "ok",
    keyName: r.keyName,
    keyVersion: r.version === "primary" ? null : r.version,
    objectPath: typeof r.object.path === "string" ? r.object.path : null,
    context: { purpose: r.purpose },
  };
}

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
