/**
 * The SQLite audit sink: appends chained records to the `audit` table of the keystore
 * database. Each append is one IMMEDIATE transaction (or a savepoint when the caller
 * already holds one, so an admin change and its record commit together); with the
 * keystore's `synchronous=FULL` the record is on disk when `append` returns.
 *
 * The head is authenticated (head-mac.ts): an append first checks that the head it extends
 * is one this sink wrote or carries a valid tag (a forged head is refused, never extended and
 * re-tagged), then writes the new head with its tag. Inside {@link batch} the tag is written
 * once, when the batch ends: one HMAC per commit, not per record.
 */
import type Database from "better-sqlite3";
import { AuditError } from "../errors.js";
import { type AuditKey, GENESIS_MAC, chainMac } from "./chain.js";
import { readAuditHead, writeAuditHead } from "./head.js";
import { headIsAuthentic, headTag } from "./head-mac.js";
import type { AuditRow } from "./schema.js";
import { toRecord } from "./list.js";
import type { AuditEvent, AuditHead, AuditRecord, AuditSink } from "./types.js";
import { cached } from "../io/statement.js";

const INSERT_RECORD = `INSERT INTO audit (seq, time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code, mac)
  VALUES (@seq, @time, @principal, @operation, @key_name, @key_version, @object_path, @header_hash, @context, @outcome, @error_code, @mac)`;

export interface SqliteAuditSinkOptions {
  now?: () => number;
  /** Creating the store: the first record may follow the untagged empty head `{ seq: 0 }`. */
  genesis?: boolean;
  /**
   * A store from before head MACs whose chain did not verify when it was opened (seal-head.ts):
   * keep appending after its untagged head, and tag nothing (`audit verify` keeps reporting it).
   */
  unsealed?: boolean;
}

export class SqliteAuditSink implements AuditSink {
  readonly #db: Database.Database;
  readonly #key: AuditKey;
  readonly #now: () => number;
  readonly #append: (event: AuditEvent) => AuditRecord;
  readonly #genesis: boolean;
  readonly #unsealed: boolean;
  /** Heads this sink wrote (seq → MAC hex) that may be the database's head: trusted without a MAC check. */
  #written = new Map<number, string>();
  /** >0 inside {@link batch}: heads are written untagged and tagged once at its end. */
  #depth = 0;

  /**
   * @param db a database holding the `meta` and `audit` tables.
   * @param auditKey the 32-byte chain key, or a function computing its HMAC (an HSM root);
   *   the sink keeps a reference (the owner wipes it).
   */
  constructor(db: Database.Database, auditKey: AuditKey, options: SqliteAuditSinkOptions = {}) {
    this.#db = db;
    this.#key = auditKey;
    this.#now = options.now ?? Date.now;
    this.#genesis = options.genesis === true;
    this.#unsealed = options.unsealed === true;
    const tx = db.transaction((event: AuditEvent) => this.#write(event, false));
    this.#append = (event) => tx.immediate(event);
  }

  /**
   * Appends one record and advances the head anchor; returns the record.
   * @throws AuditError(AUDIT_CHAIN_BROKEN) if the head anchor is missing, malformed or does not
   *   authenticate; any SQLite error (disk full, I/O) propagates unchanged.
   */
  append(event: AuditEvent): AuditRecord {
    return this.#append(event);
  }

  /**
   * Runs `work` in one IMMEDIATE transaction; the records it appends commit together, and the
   * head's tag is computed once, at the end (the key service's group commit).
   */
  batch<T>(work: () => T): T {
    try {
      return this.#db
        .transaction(() => {
          this.#depth++;
          let out: T;
          try {
            out = work();
          } finally {
            this.#depth--;
          }
          if (this.#depth === 0) this.#tagHead();
          return out;
        })
        .immediate();
    } catch (e) {
      this.#written.clear(); // rolled back: what was written in it is gone
      throw e;
    }
  }

  /**
   * Seals a store from before head MACs (seal-head.ts): appends `event` after its untagged head
   * and writes the new head with its tag. Only for a chain the caller has just verified.
   */
  appendSealing(event: AuditEvent): AuditRecord {
    return this.#db.transaction(() => this.#write(event, true)).immediate();
  }

  #write(event: AuditEvent, sealing: boolean): AuditRecord {
    const head = readAuditHead(this.#db);
    if (head === null) throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head anchor is missing or malformed");
    if (!sealing) this.#checkExtendable(head);
    const prevMac = head.seq === 0 ? GENESIS_MAC : Buffer.from(head.mac, "hex");
    const row = auditRowFor(head.seq + 1, event, this.#now());
    const mac = chainMac(this.#key, prevMac, row);
    cached(this.#db, INSERT_RECORD).run({ ...row, mac });
    const next: AuditHead = { seq: row.seq, mac: mac.toString("hex") };
    if (this.#depth > 0) this.#written.set(next.seq, next.mac);
    else this.#written = new Map([[next.seq, next.mac]]);
    writeAuditHead(this.#db, this.#depth > 0 ? next : this.#tagged(next));
    return toRecord({ ...row, mac });
  }

  /** The head may be extended: this sink wrote it, or its tag authenticates it. */
  #checkExtendable(head: AuditHead): void {
    if (this.#written.get(head.seq) === head.mac) return;
    if (this.#genesis && head.seq === 0 && head.mac === "" && head.tag === undefined) return;
    if (this.#unsealed && head.tag === undefined) return;
    if (headIsAuthentic(this.#key, head)) return;
    throw new AuditError("AUDIT_CHAIN_BROKEN", "the audit head does not authenticate (edited, or records deleted from the end); run `pipeseal audit verify`");
  }

  #tagged(head: AuditHead): AuditHead {
    if (this.#unsealed) return head;
    return { ...head, tag: headTag(this.#key, head.seq, Buffer.from(head.mac, "hex")).toString("hex") };
  }

  /** End of a batch: one tag for the head its records left. */
  #tagHead(): void {
    const head = readAuditHead(this.#db);
    if (head === null || head.tag !== undefined || this.#written.get(head.seq) !== head.mac) return; // nothing appended in it
    writeAuditHead(this.#db, this.#tagged(head));
    this.#written = new Map([[head.seq, head.mac]]);
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
