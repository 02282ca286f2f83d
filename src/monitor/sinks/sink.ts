/**
 * Where alerts go. Contract: `send` resolves once the sink has taken the alert (written it,
 * sent it, or queued it durably); it rejects when it cannot take it now (the far end is down:
 * the channel retries with backoff, nothing is dropped) or at all (a full queue,
 * MonitorError(MONITOR_QUEUE_FULL): the monitor raises that as an alert on its other sinks and
 * stops with a non-zero status). An alert is sent when it opens, as it grows (at most once per
 * `poll.updateEvery`) and when it closes; its id is stable across sends and restarts, so a
 * receiver can dedupe.
 */
import type { Alert } from "../types.js";

export interface AlertSink {
  readonly name: string;
  send(alert: Alert): Promise<void>;
  /** Makes what `send` took durable (the file sink's fsync, once per batch); an alert counts as delivered only after it. */
  flush?(): Promise<void>;
  /** Delivers what is queued as far as the far end allows within a short grace, keeps the rest; resolves when done trying. */
  close(): Promise<void>;
}

/** One JSON line per alert. */
export function alertLine(alert: Alert): string {
  return JSON.stringify(alert) + "\n";
}
