export type {
  AuditEvent,
  AuditHead,
  AuditOperation,
  AuditOutcome,
  AuditProblem,
  AuditProblemKind,
  AuditRecord,
  AuditSink,
  AuditVerifyResult,
} from "./types.js";
export { SqliteAuditSink, canonicalContextJson } from "./sqlite-sink.js";
export { verifyAuditChain } from "./verify.js";
export { listAuditRecords } from "./list.js";
export type { ListAuditOptions } from "./list.js";
export { readAuditHead } from "./head.js";
export { canonicalRecord, chainMac, GENESIS_MAC, type AuditKey } from "./chain.js";
export { AUDIT_TABLE_SQL, AUDIT_HEAD_META_KEY } from "./schema.js";
export { openAnchorWithPublicKey, ANCHOR_PAYLOAD_TYPE, ANCHOR_SCHEMA, type AnchorEnvelope, type AuditAnchor } from "./anchor.js";
export { anchoredFailure, type AnchorCheck, type AnchoredVerifyResult } from "./anchor-check.js";
