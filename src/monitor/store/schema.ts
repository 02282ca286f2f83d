/**
 * The monitor's tables in keystore.db, migrated as the `monitor` capability
 * (keys/capability-schema.ts), so alerts, acks and planted decoys live where the keystore
 * lives and every change to them commits with its audit record (`auditedChange`).
 *
 * `monitor_alerts` is the ledger of alerts: the latest `pipeseal.alert.v1` form of each, its
 * revision (one per change: opened, grew, closed), and `change_no`, a counter over every
 * change of every alert. The live monitor delivers changes to its sinks in `change_no` order
 * and keeps the last delivered number in its sealed state, so after a crash it delivers again
 * what the sinks may not have taken (no gap), and a replayed record that changes nothing in the
 * ledger is sent to no sink (no duplicate).
 */
export const MONITOR_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE monitor_alerts (
    id         TEXT    PRIMARY KEY,
    detection  TEXT    NOT NULL,
    severity   TEXT    NOT NULL,
    principal  TEXT    NOT NULL,
    key_name   TEXT,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    state      TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
    records    INTEGER NOT NULL,
    alert      TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    change_no  INTEGER NOT NULL UNIQUE,
    acked_ms   INTEGER,
    acked_by   TEXT,
    ack_note   TEXT
  );
  CREATE INDEX monitor_alerts_last ON monitor_alerts(last_ms);
  CREATE INDEX monitor_alerts_key ON monitor_alerts(key_name);
  CREATE TABLE monitor_honeytokens (
    id          TEXT    PRIMARY KEY,
    key_name    TEXT    NOT NULL,
    header_hash TEXT    NOT NULL UNIQUE,
    path        TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    rows        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
  );
  `,
];

export const MONITOR_CAPABILITY = "monitor";
