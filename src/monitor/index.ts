/**
 * `pipeseal/monitor`: the decrypt-monitoring engine for a Node service to embed — learned
 * baselines per principal × key, the seven detections, honeytokens and suppressions over
 * `pipeseal.audit.v1` records, alerts in `pipeseal.alert.v1` (docs/monitor.md).
 *
 * The engine is pure: it has no I/O and no clock of its own. Feed it records in seq order
 * (from `audit export` lines, a follower of the audit, or a key-service stream); it returns
 * the incidents each record opened, closed or had silenced, and its state is plain JSON.
 *
 * Security guarantees: alerts are built only from audit records, which hold principals, key
 * names, object paths and context values — never plaintext or key material — so alerts hold
 * neither. A honeytoken alert is critical, checked while learning too, never learned as normal
 * and cannot be suppressed or turned off. Memory grows with principals × keys, not records.
 *
 * @example
 * import { MonitorEngine, AuditLineReader, defaultMonitorConfig } from "pipeseal/monitor";
 * const engine = new MonitorEngine({ config: { ...defaultMonitorConfig(), honeytokens: { keys: ["prod/canary/*"], objects: [], contexts: {} } } });
 * const reader = new AuditLineReader();
 * socket.on("data", (chunk) => reader.push(chunk, (record) => {
 *   for (const e of engine.push(record)) if (e.type === "open") page(e.alert);
 * }));
 * @throws MonitorError(MONITOR_INPUT_INVALID) from the readers, naming the line;
 *   MonitorError(MONITOR_CONFIG_INVALID) from the config readers, naming file:line;
 *   MonitorError(MONITOR_STATE_INVALID) when an engine is restored from a damaged state.
 */
export { MonitorEngine, type EngineOptions } from "./engine.js";
export { checkAudit, type CheckResult } from "./check.js";
export { AuditLineReader, MAX_LINE_BYTES, parseAuditLine, readAuditBatches, readAuditRecords } from "./parse.js";
export { defaultMonitorConfig, parseMonitorConfig, type MonitorConfig, type SinkConfig, type Suppression } from "./config.js";
export { loadMonitorConfig } from "./load-config.js";
export { honeytokenMatcher, type HoneytokenHit, type PlantedDecoy } from "./honeytoken-match.js";
export { ENGINE_STATE_VERSION, type EngineState } from "./state.js";
export type { IncidentEvent } from "./incidents.js";
export { ALERT_SCHEMA, DETECTIONS, SEVERITIES, type Alert, type DetectionId, type EvidenceValue, type MonitorRecord, type Severity } from "./types.js";
export { MonitorError } from "./errors.js";
