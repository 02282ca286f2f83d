/**
 * The lines of a followed audit (GET /v1/audit/follow) besides the records themselves, which
 * are export lines (`pipeseal.audit.v1`, src/audit/export.ts): a heartbeat every few seconds
 * carrying the store's head seq, so a follower tells a quiet audit from a dead connection and
 * sees an audit that now ends before what it was already sent.
 */
export const AUDIT_FOLLOW_SCHEMA = "pipeseal.audit.follow.v1";

export interface AuditHeartbeat {
  readonly schema: typeof AUDIT_FOLLOW_SCHEMA;
  readonly type: "heartbeat";
  /** The highest seq in the store when the heartbeat was written (0: an empty audit). */
  readonly head: number;
  readonly time: string;
}
