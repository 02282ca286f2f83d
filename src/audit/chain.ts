/**
 * The audit hash chain.
 *
 *   mac_1 = HMAC-SHA256(auditKey, 0^32  || canonical(record_1))
 *   mac_n = HMAC-SHA256(auditKey, mac_{n-1} || canonical(record_n))
 *
 * canonical(record) = "pipeseal-audit-v1" || u64 BE seq || fields in this order:
 * time, principal, operation, keyName, keyVersion, objectPath, headerHash, context,
 * outcome, errorCode. A string field is 0x01 || u32 BE byte length || UTF-8; an integer
 * field is 0x01 || i64 BE; a null field is the single byte 0x00. The context is the exact
 * JSON text stored in the row. The audit key is derived from the master key (HKDF-SHA256,
 * info "pipeseal/v1/audit-mac"), so only a holder of the master key can extend the chain.
 *
 * Security guarantees: editing, deleting, inserting or reordering records without the
 * audit key is detected by `verifyAudit`, and deleting the tail is detected against the
 * head kept in `meta`, which carries its own MAC (head-mac.ts). Rolling back the whole
 * database (records and head) to an earlier valid state is not detectable from inside it:
 * signed anchors kept elsewhere detect it (anchor.ts, docs/audit.md).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { AuditRow } from "./schema.js";

const LABEL = Buffer.from("pipeseal-audit-v1", "utf8");
/** Predecessor MAC of the first record. */
export const GENESIS_MAC = Buffer.alloc(32);

type ChainFields = Omit<AuditRow, "mac">;

/** Canonical bytes of a record (see the module comment). */
export function canonicalRecord(row: ChainFields): Buffer {
  const seq = Buffer.alloc(8);
  seq.writeBigUInt64BE(BigInt(row.seq));
  return Buffer.concat([
    LABEL,
    seq,
    str(row.time),
    str(row.principal),
    str(row.operation),
    str(row.key_name),
    int(row.key_version),
    str(row.object_path),
    str(row.header_hash),
    str(row.context),
    str(row.outcome),
    str(row.error_code),
  ]);
}

/**
 * The audit-chain key: its bytes, or a function computing HMAC-SHA256(key, data) where the
 * key cannot leave its holder (an HSM root key computes it inside the token).
 */
export type AuditKey = Buffer | ((data: Buffer) => Buffer);

/** MAC of a record chained to its predecessor's MAC. */
export function chainMac(auditKey: AuditKey, prevMac: Buffer, row: ChainFields): Buffer {
  if (typeof auditKey === "function") return auditKey(Buffer.concat([prevMac, canonicalRecord(row)]));
  return createHmac("sha256", auditKey).update(prevMac).update(canonicalRecord(row)).digest();
}

/** Constant-time comparison of two MACs (false on any length mismatch). */
export function macEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function str(value: string | null): Buffer {
  if (value === null) return Buffer.of(0);
  const bytes = Buffer.from(value, "utf8");
  const head = Buffer.alloc(5);
  head[0] = 1;
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

function int(value: number | null): Buffer {
  if (value === null) return Buffer.of(0);
  const out = Buffer.alloc(9);
  out[0] = 1;
  out.writeBigInt64BE(BigInt(value), 1);
  return out;
}
