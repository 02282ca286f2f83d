/**
 * The seam to the monitor's alerts. The dashboard reads them through {@link AlertSource}: the
 * keystore's alert ledger (alert-ledger.ts, what `monitor run` keeps; it can also acknowledge),
 * or a file of `monitor check --json` lines. Without a source the Alerts page says "no monitor data".
 */
import { readFileSync } from "node:fs";
import { ALERT_SCHEMA, type Alert } from "../monitor/types.js";
import { UsageError } from "../errors.js";

export interface AlertView {
  readonly alert: Alert;
  /** Acknowledged (with who and the note), or null while open and unacknowledged. */
  readonly ack: { readonly by: string; readonly at: string; readonly note: string } | null;
}

export interface AlertSource {
  /** Where the alerts come from, in words (shown on the page). */
  readonly description: string;
  /** Every alert, newest first; read on each call so a running monitor's new alerts show. */
  list(): AlertView[];
  /**
   * Acknowledges alert `id` with `note`, audited (the ledger's `monitor.ack` record carries the
   * note). Absent where alerts cannot be acknowledged (a file).
   * @throws MonitorError(MONITOR_ALERT_NOT_FOUND | MONITOR_INPUT_INVALID)
   */
  ack?(id: string, note: string): void;
}

/**
 * Alerts from a file of JSON lines, one `pipeseal.alert.v1` per line (what `pipeseal monitor
 * check --json` prints). Lines of another schema are skipped; a line that is not JSON is an error.
 * @throws UsageError(INVALID_ARGUMENT) when the file cannot be read or holds a malformed line.
 */
export function alertFileSource(file: string): AlertSource {
  return {
    description: `alerts file ${file}`,
    list() {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        throw new UsageError("INVALID_ARGUMENT", `cannot read the alerts file ${file}`);
      }
      const alerts: AlertView[] = [];
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          throw new UsageError("INVALID_ARGUMENT", `${file}:${i + 1}: not a JSON line`);
        }
        if (isAlert(v)) alerts.push({ alert: v, ack: null });
      });
      return alerts.sort((a, b) => (a.alert.time < b.alert.time ? 1 : -1));
    },
  };
}

function isAlert(v: unknown): v is Alert {
  const a = v as Partial<Alert> | null;
  return (
    a !== null &&
    typeof a === "object" &&
    a.schema === ALERT_SCHEMA &&
    typeof a.id === "string" &&
    typeof a.principal === "string" &&
    typeof a.summary === "string" &&
    Array.isArray(a.seqs) &&
    typeof a.time === "string"
  );
}
