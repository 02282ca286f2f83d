/**
 * The alert ledger (schema.ts): what `monitor run` raised, `monitor alerts` lists, `monitor ack`
 * acknowledges and posture counts. Every change is an audited change of keystore.db: a new
 * revision of an alert writes a `monitor.alert` record, an ack a `monitor.ack` record, so the
 * audit chain holds alerts and acks too (and the monitor, which ignores `monitor.*` records,
 * does not learn from them).
 *
 * @example
 * const change = noteAlert(ks, alert); // null: the ledger already had this (a replayed record)
 * for (const c of changesAfter(ks, delivered)) send(c.alert);
 */
import type { LocalKeystore } from "../../keys/keystore.js";
import { cached } from "../../io/statement.js";
import { MonitorError } from "../errors.js";
import type { Alert } from "../types.js";
import { MONITOR_CAPABILITY, MONITOR_MIGRATIONS } from "./schema.js";

export interface AlertAck {
  readonly time: string;
  readonly by: string;
  readonly note: string;
}

/** An alert as the ledger keeps it: its latest form, its revision, and its ack if any. */
export interface StoredAlert {
  readonly alert: Alert;
  readonly revision: number;
  readonly changeNo: number;
  readonly ack: AlertAck | null;
}

interface Row {
  id: string;
  state: string;
  records: number;
  alert: string;
  revision: number;
  change_no: number;
  acked_ms: number | null;
  acked_by: string | null;
  ack_note: string | null;
}

const ALERT_ID = /^al_[0-9a-f]{24}$/;
const MAX_NOTE = 1000;

/** Creates the monitor's tables if this keystore has none yet (a schema migration, not audited). */
export function ensureMonitorTables(ks: LocalKeystore): void {
  ks.ensureTables(MONITOR_CAPABILITY, MONITOR_MIGRATIONS);
}

const records = (a: Alert) => a.seqs.length + a.seqsOmitted;

function toStored(r: Row): StoredAlert {
  return {
    alert: JSON.parse(r.alert) as Alert,
    revision: r.revision,
    changeNo: r.change_no,
    ack: r.acked_ms === null ? null : { time: new Date(r.acked_ms).toISOString(), by: r.acked_by ?? "", note: r.ack_note ?? "" },
  };
}

/**
 * Records `alert` if it says more than the ledger holds (new, grown, or closed), with its
 * `monitor.alert` audit record in the same transaction. Returns the change, or null when the
 * ledger already holds this much (a record replayed after a restart changes nothing).
 * @throws AuditError(AUDIT_WRITE_FAILED) (nothing is recorded then: fail closed)
 */
export function noteAlert(ks: LocalKeystore, alert: Alert): StoredAlert | null {
  const known = ks.readTables(
    (db) => cached(db, "SELECT state, records FROM monitor_alerts WHERE id = ?").get(alert.id) as Pick<Row, "state" | "records"> | undefined,
  );
  if (known && !isNews(known, alert)) return null;
  const context = { detection: alert.detection, severity: alert.severity, subject: alert.principal, state: alert.state, records: String(records(alert)) };
  return ks.auditedChange({ operation: "monitor.alert", keyName: alert.key, objectPath: alert.id, context }, (db) => {
    const row = cached(db, "SELECT state, records, revision FROM monitor_alerts WHERE id = ?").get(alert.id) as
      Pick<Row, "state" | "records" | "revision"> | undefined;
    const changeNo = ((cached(db, "SELECT max(change_no) AS n FROM monitor_alerts").get() as { n: number | null }).n ?? 0) + 1;
    const json = JSON.stringify(alert);
    const lastMs = Date.parse(alert.lastTime);
    if (row === undefined) {
      cached(
        db,
        "INSERT INTO monitor_alerts (id, detection, severity, principal, key_name, first_ms, last_ms, state, records, alert, revision, change_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
      ).run(alert.id, alert.detection, alert.severity, alert.principal, alert.key, Date.parse(alert.time), lastMs, alert.state, records(alert), json, changeNo);
      return { alert, revision: 1, changeNo, ack: null };
    }
    cached(db, "UPDATE monitor_alerts SET last_ms = ?, state = ?, records = ?, alert = ?, revision = revision + 1, change_no = ? WHERE id = ?").run(
      lastMs,
      alert.state,
      records(alert),
      json,
      changeNo,
      alert.id,
    );
    return { alert, revision: row.revision + 1, changeNo, ack: null };
  });
}

/**
 * {@link noteAlert} for several alerts in one transaction (one commit, one fsync: the live
 * monitor records a poll's alerts together, which keeps commit-to-sink latency flat under bursts).
 */
export function noteAlerts(ks: LocalKeystore, alerts: readonly Alert[]): (StoredAlert | null)[] {
  if (alerts.length === 0) return [];
  if (alerts.length === 1) return [noteAlert(ks, alerts[0])];
  return ks.transaction(() => alerts.map((a) => noteAlert(ks, a)));
}

/** An alert says more than the ledger when it closed, or grew. An alert never reopens. */
function isNews(known: { state: string; records: number }, a: Alert): boolean {
  if (known.state === "closed") return false;
  return a.state === "closed" || records(a) > known.records;
}

/** The ledger's changes after `changeNo`, in order (what a restarted monitor still owes its sinks). */
export function changesAfter(ks: LocalKeystore, changeNo: number): StoredAlert[] {
  return ks.readTables((db) => (cached(db, "SELECT * FROM monitor_alerts WHERE change_no > ? ORDER BY change_no").all(changeNo) as Row[]).map(toStored));
}

/** The highest change number (0 for an empty ledger). */
export function lastChangeNo(ks: LocalKeystore): number {
  return ks.readTables((db) => (cached(db, "SELECT max(change_no) AS n FROM monitor_alerts").get() as { n: number | null }).n ?? 0);
}

export interface ListAlertsOptions {
  /** Only alerts active at or after this epoch-ms time (their last record). */
  readonly sinceMs?: number;
  /** Only alerts not acknowledged. */
  readonly unacked?: boolean;
}

/** Alerts, oldest first (by their first record). */
export function listAlerts(ks: LocalKeystore, o: ListAlertsOptions = {}): StoredAlert[] {
  return ks.readTables((db) =>
    (
      cached(db, "SELECT * FROM monitor_alerts WHERE last_ms >= ? AND (? = 0 OR acked_ms IS NULL) ORDER BY first_ms, id").all(
        o.sinceMs ?? 0,
        o.unacked ? 1 : 0,
      ) as Row[]
    ).map(toStored),
  );
}

/** Unacknowledged alerts per key (alerts about no key under null), for posture. Only reads: a keystore without monitor tables has none. */
export function openAlertsByKey(ks: LocalKeystore): Map<string | null, Alert[]> {
  const out = new Map<string | null, Alert[]>();
  const exists = ks.readTables((db) => cached(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'monitor_alerts'").get());
  if (!exists) return out;
  for (const s of listAlerts(ks, { unacked: true })) out.set(s.alert.key, [...(out.get(s.alert.key) ?? []), s.alert]);
  return out;
}

/**
 * Acknowledges an alert with a note (a `monitor.ack` audit record naming the alert, its key and
 * the note). Acking again replaces the note (and is audited again).
 * @throws UsageError-like MonitorError(MONITOR_ALERT_NOT_FOUND) for an id the ledger does not hold;
 *   MonitorError(MONITOR_INPUT_INVALID) for a malformed id or an empty or overlong note.
 */
export function ackAlert(ks: LocalKeystore, id: string, note: string, nowMs = Date.now()): StoredAlert {
  if (typeof id !== "string" || !ALERT_ID.test(id))
    throw new MonitorError("MONITOR_ALERT_NOT_FOUND", "an alert id is al_ and 24 hex digits (see `pipeseal monitor alerts`)");
  const text = typeof note === "string" ? note.trim() : "";
  if (text === "" || text.length > MAX_NOTE || /[\u0000-\u001f\u007f]/.test(text))
    throw new MonitorError("MONITOR_INPUT_INVALID", `an ack needs --note: one line of text, at most ${MAX_NOTE} characters`);
  const row = ks.readTables((db) => cached(db, "SELECT * FROM monitor_alerts WHERE id = ?").get(id) as Row | undefined);
  if (!row) throw new MonitorError("MONITOR_ALERT_NOT_FOUND", `no alert ${id} in this keystore`);
  const alert = JSON.parse(row.alert) as Alert;
  ks.auditedChange({ operation: "monitor.ack", keyName: alert.key, objectPath: id, context: { detection: alert.detection, note: text } }, (db) => {
    cached(db, "UPDATE monitor_alerts SET acked_ms = ?, acked_by = ?, ack_note = ? WHERE id = ?").run(nowMs, ks.principal, text, id);
  });
  return toStored({ ...row, acked_ms: nowMs, acked_by: ks.principal, ack_note: text });
}
