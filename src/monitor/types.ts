/**
 * The monitor's data: audit records as the engine sees them, and alerts (`pipeseal.alert.v1`,
 * docs/monitor.md). Alerts are built from audit records only, and audit records hold no
 * plaintext and no key material, so neither can an alert.
 */

/** Detection ids. Fixed: users write them in suppressions and SIEM rules. */
export const DETECTIONS = ["new-principal", "volume-spike", "off-hours", "new-context", "bulk-read", "denial-burst", "honeytoken"] as const;
export type DetectionId = (typeof DETECTIONS)[number];

/**
 * Alerts about the monitor's own inputs and outputs, raised by `monitor run` (never learned,
 * never suppressed, always critical): the audit chain did not verify as it was followed
 * (a record edited, missing, or the log rolled back), or a sink's queue is full.
 */
export const HEALTH_DETECTIONS = ["audit-integrity", "sink-queue-full"] as const;
export type HealthDetectionId = (typeof HEALTH_DETECTIONS)[number];

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One `pipeseal.audit.v1` record, reduced to what the detections read. */
export interface MonitorRecord {
  readonly seq: number;
  /** Epoch milliseconds of `time`. */
  readonly timeMs: number;
  readonly principal: string;
  readonly operation: string;
  readonly key: string | null;
  readonly object: string | null;
  readonly headerHash: string | null;
  readonly context: Readonly<Record<string, string>> | null;
  readonly outcome: "ok" | "denied" | "error";
  readonly errorCode: string | null;
}

/** The `schema` of every alert. A change that is not purely additive gets a new one. */
export const ALERT_SCHEMA = "pipeseal.alert.v1";

export type EvidenceValue = number | string | boolean | null;

export interface Alert {
  readonly schema: typeof ALERT_SCHEMA;
  /** Stable: derived from detection, principal, key and the first seq, so a restarted monitor names it alike. */
  readonly id: string;
  readonly detection: DetectionId | HealthDetectionId;
  readonly severity: Severity;
  readonly principal: string;
  readonly key: string | null;
  /** ISO time of the first record behind the alert. */
  readonly time: string;
  /** ISO time of the last record so far. */
  readonly lastTime: string;
  /** `open` while the incident lasts; `closed` once its dedupe window passed with nothing new. */
  readonly state: "open" | "closed";
  /** The audit seqs behind the alert, ascending (all of them up to `limits.maxSeqs`; `seqsOmitted` counts the rest). */
  readonly seqs: readonly number[];
  readonly seqsOmitted: number;
  /** One plain sentence: what was seen against what is normal. */
  readonly summary: string;
  /** Observed vs baseline numbers (and the values that were new). */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
}
