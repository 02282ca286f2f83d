/**
 * The keystore's alert ledger as the dashboard's alert source: the alerts `monitor run`
 * recorded (src/monitor/store/alerts.ts), and acknowledging one from the page through the
 * same ackAlert `pipeseal monitor ack` calls (a `monitor.ack` audit record with the note, as
 * the keystore's principal).
 */
import { ackAlert, ensureMonitorTables, listAlerts } from "../monitor/store/alerts.js";
import type { LocalKeystore } from "../keys/keystore.js";
import type { AlertSource } from "./alerts.js";

export function ledgerAlertSource(ks: LocalKeystore, now: () => number = Date.now): AlertSource {
  ensureMonitorTables(ks); // a schema migration (not audited): a keystore the monitor never ran on has an empty ledger
  return {
    description: "the keystore's alert ledger (pipeseal monitor run)",
    list: () =>
      listAlerts(ks)
        .map((s) => ({ alert: s.alert, ack: s.ack === null ? null : { by: s.ack.by, at: s.ack.time, note: s.ack.note } }))
        .sort((a, b) => (a.alert.time < b.alert.time ? 1 : a.alert.time > b.alert.time ? -1 : 0)),
    ack: (id, note) => void ackAlert(ks, id, note, now()),
  };
}
