/**
 * Audit anchors of the local keystore (src/audit/anchor.ts): signing the head, and checking
 * that the chain extends anchors taken earlier. Not audited themselves: both only read.
 */
import { type AnchorEnvelope, signAnchor } from "../audit/anchor.js";
import { type AnchoredVerifyResult, checkAnchors } from "../audit/anchor-check.js";
import { type AnchorKey, anchorPublicKeyPem, deriveAnchorKey } from "../audit/anchor-key.js";
import { readAuditHead } from "../audit/head.js";
import { headIsAuthentic } from "../audit/head-mac.js";
import { verifyAuditChain } from "../audit/verify.js";
import { AuditError } from "../errors.js";
import { cached } from "../io/statement.js";
import type { StoreContext } from "./store-context.js";

function anchorKey(ctx: StoreContext): AnchorKey {
  return deriveAnchorKey((d) => ctx.master.auditMac(d));
}

/** @throws AuditError(AUDIT_CHAIN_BROKEN) if the head does not authenticate (an anchor must never bless a forged head). */
export function takeAuditAnchor(ctx: StoreContext): AnchorEnvelope {
  const head = readAuditHead(ctx.db);
  if (head === null || head.seq < 1 || !headIsAuthentic((d) => ctx.master.auditMac(d), head)) {
    throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head does not authenticate, so it cannot be anchored; run `pipeseal audit verify`");
  }
  return signAnchor(anchorKey(ctx), { seq: head.seq, mac: head.mac }, "local", ctx.now());
}

/** The anchor public key, SPKI PEM. */
export function auditAnchorPublicKey(ctx: StoreContext): string {
  return anchorPublicKeyPem(anchorKey(ctx));
}

/** The chain's verification plus, per anchor, whether the chain extends it. */
export async function verifyAuditAnchored(ctx: StoreContext, envelopes: readonly unknown[]): Promise<AnchoredVerifyResult> {
  const key = (d: Buffer) => ctx.master.auditMac(d);
  const result = verifyAuditChain(ctx.db, key);
  const macAt = (seq: number) => {
    const row = cached(ctx.db, "SELECT mac FROM audit WHERE seq = ?").get(seq) as { mac: Buffer } | undefined;
    return row === undefined ? null : Buffer.from(row.mac).toString("hex");
  };
  const anchors = await checkAnchors(envelopes, anchorKey(ctx), { head: readAuditHead(ctx.db), macAt });
  return { ...result, anchors };
}
