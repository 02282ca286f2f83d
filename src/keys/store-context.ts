/** What every keystore operation needs. Internal. */
import type { AuditEvent, AuditRecord } from "../audit/types.js";
import type { Db } from "./db.js";
import type { StateSeal } from "./key-state.js";
import type { RootKey } from "./root-key.js";

export interface StoreContext {
  readonly db: Db;
  readonly master: RootKey;
  /** The key-state MAC key (key-state.ts), derived from the root at open; wiped at close. */
  readonly seal: StateSeal;
  readonly principal: string;
  readonly keyringId: "local";
  readonly maxWrapsPerVersion: number;
  now(): number;
  /**
   * Records an audit event durably (keystore chain, then the optional extra sink) and returns
   * the keystore chain's record; throws whatever they throw. Inside a transaction, the record
   * commits or rolls back with it.
   */
  record(event: AuditEvent): AuditRecord;
  /** Runs `work` in one IMMEDIATE transaction whose records commit together; the audit head is MACed once, at its end. */
  batch<T>(work: () => T): T;
}
