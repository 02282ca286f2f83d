/**
 * The registry of planted decoys: `monitor_honeytokens` in keystore.db (store/schema.ts),
 * written through the keystore's audited-change seam so the plant and its audit record
 * (`honeytoken.plant`, naming the key and the decoy id, not the path) commit together. The
 * decoy file itself carries no marker: the monitor knows it by its sealed header's hash (which
 * stays the same wherever the file is copied) and by its path.
 */
import type { LocalKeystore } from "../../keys/keystore.js";
import { cached } from "../../io/statement.js";
import type { PlantedDecoy } from "../honeytoken-match.js";
import { ensureMonitorTables } from "../store/alerts.js";

export interface DecoyRecord extends PlantedDecoy {
  readonly format: string;
  readonly rows: number;
  readonly createdAt: string;
}

/** Records a decoy (and its audit record) in one transaction. */
export function recordDecoy(ks: LocalKeystore, d: Omit<DecoyRecord, "createdAt">, nowMs = Date.now()): DecoyRecord {
  ensureMonitorTables(ks);
  ks.auditedChange({ operation: "honeytoken.plant", keyName: d.key, context: { honeytoken: d.id } }, (db) => {
    cached(db, "INSERT INTO monitor_honeytokens (id, key_name, header_hash, path, format, rows, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
      d.id,
      d.key,
      d.headerHash,
      d.path,
      d.format,
      d.rows,
      nowMs,
    );
  });
  return { ...d, createdAt: new Date(nowMs).toISOString() };
}

interface Row {
  id: string;
  key_name: string;
  header_hash: string;
  path: string;
  format: string;
  rows: number;
  created_at: number;
}

/** Every planted decoy, oldest first. */
export function listDecoys(ks: LocalKeystore): DecoyRecord[] {
  ensureMonitorTables(ks);
  return ks.readTables((db) =>
    (cached(db, "SELECT * FROM monitor_honeytokens ORDER BY created_at, id").all() as Row[]).map((r) => ({
      id: r.id,
      key: r.key_name,
      headerHash: r.header_hash,
      path: r.path,
      format: r.format,
      rows: r.rows,
      createdAt: new Date(r.created_at).toISOString(),
    })),
  );
}
