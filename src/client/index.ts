/** The key-service client: the remote Keyring, its data-key cache, typed service errors. */
export { RemoteKeyring } from "./remote-keyring.js";
export type { RemoteKeyringOptions } from "./remote-keyring.js";
export { DataKeyCache } from "./cache.js";
export type { CacheDecision, CacheEvent, CacheLimits } from "./cache.js";
export { KeyServiceClient } from "./http.js";
export type { KeyServiceClientOptions, RetryOptions } from "./http.js";
export { KeyServiceError } from "./errors.js";
/** The record of each `exportAudit()` line (JSON.parse it). */
export type { AuditExportRecord } from "../audit/export.js";
export { AUDIT_EXPORT_SCHEMA } from "../audit/export.js";
export { RemoteSecrets } from "./secrets.js";
export type { VerifiedToken } from "./delegate.js";
/** The events of `followAudit()` (GET /v1/audit/follow). */
export type { FollowEvent, FollowOptions } from "./follow.js";
