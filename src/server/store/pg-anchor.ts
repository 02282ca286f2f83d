/**
 * Audit anchors of the PostgreSQL store (src/audit/anchor.ts): the anchor key is derived from
 * the root's audit key, so every replica signs with the same key and a restored database
 * cannot change it.
 */
import type pg from "pg";
import { type AnchorEnvelope, signAnchor } from "../../audit/anchor.js";
import { type AnchoredVerifyResult, checkAnchors } from "../../audit/anchor-check.js";
import { anchorPublicKeyPem, deriveAnchorKey } from "../../audit/anchor-key.js";
import { headIsAuthentic } from "../../audit/head-mac.js";
import { AuditError } from "../../errors.js";
import { type AuditMac, type LockedHead, verifyAuditPg } from "./pg-audit.js";
import { withClient } from "./pg-tx.js";

export async function auditAnchorPg(pool: pg.Pool, mac: AuditMac, nowMs: number): Promise<{ anchor: AnchorEnvelope; publicKey: string }> {
  const head = await withClient(pool, async (c) => (await c.query<LockedHead>("SELECT seq, mac, tag FROM audit_head WHERE id = 1")).rows[0]);
  const view = head === undefined ? null : { seq: head.seq, mac: head.mac.toString("hex"), ...(head.tag == null ? {} : { tag: head.tag.toString("hex") }) };
  if (view === null || view.seq < 1 || !headIsAuthentic(mac, view)) {
    throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head does not authenticate, so it cannot be anchored; run `pipeseal audit verify`");
  }
  const key = deriveAnchorKey(mac);
  return { anchor: signAnchor(key, { seq: view.seq, mac: view.mac }, "key-service", nowMs), publicKey: anchorPublicKeyPem(key) };
}

export async function verifyAuditAnchoredPg(pool: pg.Pool, mac: AuditMac, anchors: readonly unknown[]): Promise<AnchoredVerifyResult> {
  return withClient(pool, async (c) => {
    const result = await verifyAuditPg(c, mac);
    const head = (await c.query<LockedHead>("SELECT seq, mac FROM audit_head WHERE id = 1")).rows[0];
    const macAt = async (seq: number) => {
      const row = (await c.query<{ mac: Buffer }>("SELECT mac FROM audit WHERE seq = $1", [seq])).rows[0];
      return row === undefined ? null : row.mac.toString("hex");
    };
    const checks = await checkAnchors(anchors, deriveAnchorKey(mac), {
      head: head === undefined ? null : { seq: head.seq, mac: head.mac.toString("hex") },
      macAt,
    });
    return { ...result, anchors: checks };
  });
}
