/**
 * Sealing the head of a key-service database made before head MACs (the rule is in
 * src/audit/seal-head.ts), once, when a replica opens it: under the head lock, so replicas
 * starting together seal it once, and in one transaction with the `audit.upgrade` record.
 */
import type pg from "pg";
import { type HeadSealState, HAS_MARKER_SQL, MARKER_CONTEXT_JSONS, sealDecision, upgradeEvent } from "../../audit/seal-head.js";
import { type AuditMac, appendChained, lockAuditHead, readChainPg, verifyRows } from "./pg-audit.js";
import { inTx } from "./pg-tx.js";

export async function sealPgHead(pool: pg.Pool, mac: AuditMac, principal: string, now: () => number): Promise<HeadSealState> {
  return inTx(pool, async (c) => {
    const head = await lockAuditHead(c);
    if (head.tag != null && head.tag.length > 0) return "sealed";
    const hasMarker =
      (
        await c.query(
          HAS_MARKER_SQL((i) => `$${i}`),
          [...MARKER_CONTEXT_JSONS],
        )
      ).rows.length > 0;
    const first = (await c.query<{ seq: number; operation: string }>("SELECT seq, operation FROM audit ORDER BY seq LIMIT 1")).rows[0] ?? null;
    const decision = sealDecision({ head: { seq: head.seq, mac: head.mac.toString("hex") }, hasMarker, first });
    if (decision !== "verify") return decision;
    const chain = await readChainPg(c);
    if (!verifyRows(chain.rows, chain.head, mac, { ignoreHeadTag: true }).ok) return "unsealed";
    await appendChained(c, mac, head, [upgradeEvent(principal)], now());
    return "sealed";
  });
}
