/** Encrypted log sinks with retention and crypto-shredding prune (docs/logs.md). */
export { LogSink, createLogSink } from "./sink.js";
export type { Classification, LogRecord, LogSinkOptions } from "./sink.js";
export { LogSegmentError, readLogs } from "./read.js";
export type { LogReadEvent, ReadLogsOptions } from "./read.js";
export { applyPrune, pruneLogs } from "./prune.js";
export type { PruneOptions, PruneResult } from "./prune.js";
export { planPrune } from "./prune-plan.js";
export type { PlannedDestroy, PrunePlan, PruneInput } from "./prune-plan.js";
export { MANIFEST_FILE, readManifest, scanFolder } from "./layout.js";
export type { FolderScan, LogManifest, SegmentInfo } from "./layout.js";
export { DEFAULT_BUCKET_MS, DEFAULT_MAX_BYTES, DEFAULT_RETENTION_MS, LOG_CLASSES, classKeyName } from "./types.js";
export type { LogClass, LogKeyAdmin, LogKeyring, LogPruneAdmin } from "./types.js";
