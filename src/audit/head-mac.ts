/**
 * The authenticated chain head. The head (seq and MAC of the last record) is what tells a
 * deleted tail from a short log, so it carries its own MAC under the audit key:
 *
 *   tag = HMAC-SHA256(auditKey, "pipeseal-audit-head-v1" || u64 BE seq || mac_seq)
 *
 * with mac_0 = 0^32 (the genesis predecessor). The input is 62 bytes and starts with the
 * label; a chain input (chain.ts) starts with a 32-byte MAC and is longer than 62 bytes, so
 * the two can never be confused. Without the audit key nobody can point the head at an
 * earlier record (tail truncation) or at seq 0 (a wiped log), and every append checks the
 * head it extends, so a forged head is never "laundered" by the next record.
 *
 * Which stores must have a tagged head: a store created by this version marks its first
 * record (`init`, context {@link HEAD_MARKER_CONTEXT}); a store created before it is sealed
 * on its first open with the key (seal-head.ts), which appends an `audit.upgrade` record with
 * the same context. Once a marker is in the chain, a head without a valid tag is refused, so
 * stripping the tag to look like an old store does not work.
 */
import { createHmac } from "node:crypto";
import { type AuditKey, GENESIS_MAC, macEquals } from "./chain.js";
import type { AuditHead } from "./types.js";

const HEAD_LABEL = Buffer.from("pipeseal-audit-head-v1", "utf8");

/** Context (canonical JSON) of the record from which on the head is authenticated. */
export const HEAD_MARKER_CONTEXT = { auditHead: "hmac-sha256-v1" } as const;
/**
 * Context of a new store's `init` record: every protection the store is born with — the head
 * MAC (this file) and sealed key state (keys/key-state.ts reads its "key-state" field).
 */
export const INIT_CONTEXT = { ...HEAD_MARKER_CONTEXT, "key-state": "mac-v1" } as const;
/** The contexts that make a record a head marker: an upgrade's, or a new store's init. */
export const MARKER_CONTEXT_JSONS = [JSON.stringify(HEAD_MARKER_CONTEXT), JSON.stringify(INIT_CONTEXT)] as const;
/** Operation of the marker record that seals a store created before head MACs. */
export const UPGRADE_OPERATION = "audit.upgrade";

/** The head's MAC (see the module comment). `mac` is the last record's MAC (empty or zeros for seq 0). */
export function headTag(auditKey: AuditKey, seq: number, mac: Buffer): Buffer {
  const s = Buffer.alloc(8);
  s.writeBigUInt64BE(BigInt(seq));
  const input = Buffer.concat([HEAD_LABEL, s, seq === 0 ? GENESIS_MAC : mac]);
  if (typeof auditKey === "function") return auditKey(input);
  return createHmac("sha256", auditKey).update(input).digest();
}

/** True when the head carries a tag that authenticates its seq and MAC (constant-time compare). */
export function headIsAuthentic(auditKey: AuditKey, head: AuditHead): boolean {
  if (head.tag === undefined || !/^[0-9a-f]{64}$/.test(head.tag)) return false;
  return macEquals(headTag(auditKey, head.seq, Buffer.from(head.mac, "hex")), Buffer.from(head.tag, "hex"));
}

/** True for a record that says "from here on the head is authenticated" (only the keystore writes these operations). */
export function isHeadMarker(row: { operation: string; context: string | null }): boolean {
  return (
    (row.operation === "init" || row.operation === UPGRADE_OPERATION) &&
    row.context !== null &&
    (MARKER_CONTEXT_JSONS as readonly string[]).includes(row.context)
  );
}
