/**
 * The SQLite audit sink: appends chained records to the `audit` table of the keystore
 * database. Each append is one IMMEDIATE transaction (or a savepoint when the caller
 * already holds one, so an admin change and its record commit together); with the
 * keystore's `synchronous=FULL` the record is on disk when `append` returns.
 */
import type Database from "better-sqlite3";
import { AuditError } from "../errors.js";
import { type AuditKey, GENESIS_MAC, chainMac } from "./chain.js";
import { readAuditHead, writeAuditHead } from "./head.js";
import type { AuditRow } from "./schema.js";
import { toRecord } from "./list.js";
import type { AuditEvent, AuditRecord, AuditSink } from "./types.js";
import { cached } from "../io/statement.js";

const INSERT_RECORD = `INSERT INTO audit (seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac)
  VALUES (@seq, @time, @principal, @operation, @key_name, @key_version, @object_path, @header_hash, @context, @outcome, @error_code, @mac)`;

export class SqliteAuditSink implements AuditSink {
  readonly #db: Database.Database;
  readonly #key: AuditKey;
  readonly #now: () => number;
  readonly #append: (event: AuditEvent) => AuditRecord;

  /**
   * @param db a database holding the `meta` and `audit` tables.
   * @param auditKey the 32-byte chain key, or a function computing its HMAC (an HSM root);
   *   the sink keeps a reference (the owner wipes it).
   */
  constructor(db: Database.Database, auditKey: AuditKey, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#key = auditKey;
    this.#now = options.now ?? Date.now;
    const tx = db.transaction((event: AuditEvent) => this.#write(event));
    this.#append = (event) => tx.immediate(event);
  }

  /**
   * Appends one record and advances the head anchor; returns the record.
   * @throws AuditError(AUDIT_CHAIN_BROKEN) if the head anchor is missing or malformed;
   *   any SQLite error (disk full, I/O) propagates unchanged.
   */
  append(event: AuditEvent): AuditRecord {
    return this.#append(event);
  }

  #write(event: AuditEvent): AuditRecord {
    const head = readAuditHead(this.#db);
    if (head === null) throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head anchor is missing or malformed");
    const prevMac = head.seq === 0 ? GENESIS_MAC : Buffer.from(head.mac, "hex");
    const row = auditRowFor(head.seq + 1, event, this.#now());
    const mac = chainMac(this.#key, prevMac, row);
    cached(this.#db, INSERT_RECORD).run({ ...row, mac });
    writeAuditHead(this.#db, { seq: row.seq, mac: mac.toString("hex") });
    return toRecord({ ...row, mac });
  }
}

/** The stored row (before its MAC) of the event that becomes record `seq`: shared by every audit store. */
export function auditRowFor(seq: number, event: AuditEvent, nowMs: number): Omit<AuditRow, "mac"> {
  return {
    seq,
    time: new Date(event.timeMs ?? nowMs).toISOString(),
    principal: event.principal,
    operation: event.operation,
    key_name: event.keyName ?? null,
    key_version: event.keyVersion ?? null,
    object_path: event.objectPath ?? null,
    header_hash: event.headerHash ?? null,
    context: event.context == null ? null : canonicalContextJson(event.context),
    outcome: event.outcome,
    error_code: event.errorCode ?? null,
  };
}

/** JSON of a context with keys in sorted order, so equal contexts store equal text. */
export function canonicalContextJson(context: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(context).sort()) sorted[key] = String(context[key]);
  return JSON.stringify(sorted);
}
