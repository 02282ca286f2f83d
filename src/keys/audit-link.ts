/**
 * Checking one audit record against its predecessor's MAC (chain.ts), for a reader that follows
 * the chain as it grows (`monitor run`): the same check `verifyAudit` makes per link, without
 * rereading the whole chain. Only verifies: it never computes a MAC for the caller.
 */
import { GENESIS_MAC, chainMac, macEquals } from "../audit/chain.js";
import type { AuditRecord } from "../audit/types.js";
import type { StoreContext } from "./store-context.js";

const HEX_MAC = /^[0-9a-f]{64}$/;

/** True when `record`'s MAC chains it to `prevMac` (hex; null for the first record). */
export function auditRecordLinks(ctx: StoreContext, prevMac: string | null, record: AuditRecord): boolean {
  if (prevMac !== null && !HEX_MAC.test(prevMac)) return false;
  if (!HEX_MAC.test(record.mac)) return false;
  const prev = prevMac === null ? GENESIS_MAC : Buffer.from(prevMac, "hex");
  const row = {
    seq: record.seq,
    time: record.time,
    principal: record.principal,
    operation: record.operation,
    key_name: record.keyName,
    key_version: record.keyVersion,
    object_path: record.objectPath,
    header_hash: record.headerHash,
    context: record.context,
    outcome: record.outcome,
    error_code: record.errorCode,
  };
  return macEquals(
    chainMac((d) => ctx.master.auditMac(d), prev, row),
    Buffer.from(record.mac, "hex"),
  );
}
