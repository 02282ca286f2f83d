/**
 * Policy proposals on PostgreSQL, each in one transaction with its audit record. The pure
 * rules (sizes, ids, no self-approval) are shared with SQLite (policies.ts); here only the
 * rows. An approval locks the proposal row, so two replicas cannot both approve it.
 */
import type { PoolClient } from "pg";
import { type PolicyRow, checkApproval, toPolicyRecord } from "./policies.js";
import { type AuditMac, appendAuditTx } from "./pg-audit.js";
import type { PolicyRecord } from "./types.js";
import { type Actor, annotate, principalOf } from "./actor.js";

export async function proposeTx(c: PoolClient, mac: AuditMac, id: string, yaml: string, who: Actor, now: number): Promise<void> {
  const proposer = principalOf(who);
  await c.query("INSERT INTO policies (id, yaml, proposer, proposed_at, state) VALUES ($1, $2, $3, $4, 'proposed')", [id, yaml, proposer, now]);
  await appendAuditTx(c, mac, annotate(who, { operation: "policy.propose", principal: proposer, outcome: "ok", objectPath: id }), now);
}

/** @throws UsageError(INVALID_ARGUMENT) as checkApproval */
export async function approveTx(c: PoolClient, mac: AuditMac, id: string, who: Actor, now: number): Promise<PolicyRecord> {
  const approver = principalOf(who);
  const row = typeof id === "string" ? (await c.query<PolicyRow>("SELECT * FROM policies WHERE id = $1 FOR UPDATE", [id])).rows[0] : undefined;
  checkApproval(id, row === undefined ? undefined : toPolicyRecord(row), approver);
  await c.query("UPDATE policies SET state = 'superseded' WHERE state = 'active'");
  const updated = (
    await c.query<PolicyRow>("UPDATE policies SET state = 'active', approver = $1, approved_at = $2 WHERE id = $3 RETURNING *", [approver, now, id])
  ).rows[0];
  await appendAuditTx(c, mac, annotate(who, { operation: "policy.approve", principal: approver, outcome: "ok", objectPath: id.slice(0, 64) }), now);
  return toPolicyRecord(updated);
}
