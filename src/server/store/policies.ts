/**
 * Shared by both stores: the pure rules of policy proposals. The store only persists; the
 * policy engine validates YAML and decides who is an administrator. Here: size limits, ids,
 * and the separation-of-duties floor (the approver is not the proposer) that holds even if
 * the engine's check is bypassed.
 */
import { randomBytes } from "node:crypto";
import { UsageError } from "../../errors.js";
import { MAX_POLICY_BYTES, type PolicyRecord, type Principal } from "./types.js";

export const POLICY_ID = /^pol_[0-9a-f]{20}$/;

export function newPolicyId(): string {
  return `pol_${randomBytes(10).toString("hex")}`;
}

/** @throws UsageError(INVALID_ARGUMENT) */
export function checkProposal(yaml: unknown, proposer: unknown): void {
  checkPrincipal(proposer, "proposer");
  if (typeof yaml !== "string" || yaml.trim() === "") throw new UsageError("INVALID_ARGUMENT", "the policy is empty");
  if (Buffer.byteLength(yaml) > MAX_POLICY_BYTES) throw new UsageError("INVALID_ARGUMENT", `a policy is at most ${MAX_POLICY_BYTES} bytes`);
}

/**
 * Plan of an approval: refuses an unknown or settled proposal and self-approval.
 * @throws UsageError(INVALID_ARGUMENT)
 */
export function checkApproval(id: unknown, proposal: PolicyRecord | undefined, approver: unknown): void {
  checkPrincipal(approver, "approver");
  if (typeof id !== "string" || !POLICY_ID.test(id) || proposal === undefined) throw new UsageError("INVALID_ARGUMENT", "no such policy proposal");
  if (proposal.state !== "proposed") throw new UsageError("INVALID_ARGUMENT", `policy ${id} is ${proposal.state}, not pending approval`);
  if (proposal.proposer === approver) {
    throw new UsageError("INVALID_ARGUMENT", "a policy must be approved by a second, different administrator");
  }
}

function checkPrincipal(p: unknown, what: string): asserts p is Principal {
  if (typeof p !== "string" || p === "" || p.length > 1024) throw new UsageError("INVALID_ARGUMENT", `a ${what} is required`);
}

/** Row shape shared by both schemas. */
export interface PolicyRow {
  id: string;
  yaml: string;
  proposer: string;
  proposed_at: number;
  state: PolicyRecord["state"];
  approver: string | null;
  approved_at: number | null;
}

export function toPolicyRecord(r: PolicyRow): PolicyRecord {
  return {
    id: r.id,
    yaml: r.yaml,
    proposer: r.proposer,
    proposedAt: Number(r.proposed_at),
    state: r.state,
    approver: r.approver,
    approvedAt: r.approved_at === null ? null : Number(r.approved_at),
  };
}

/** One `AuditRecord` per line. */
export function auditLine(record: object): string {
  return `${JSON.stringify(record)}\n`;
}
