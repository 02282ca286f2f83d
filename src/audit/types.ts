/**
 * Audit events and records. The audit layer knows nothing about keys beyond names and
 * versions: it records what happened, chains the records, and verifies the chain.
 */

/** Outcome of an audited action: done, refused by policy or key state, or failed. */
export type AuditOutcome = "ok" | "denied" | "error";

/**
 * Operations recorded. Data-key access: `unwrap`, `decrypt`, `range-read`, `rewrap`.
 * Administration: `init`, `key.create`, `key.rotate`, `key.disable`, `key.enable`,
 * `key.destroy`, `key.set-min-version`. Internal CA (src/pki/ca): `ca.init`, `ca.issue`,
 * `ca.renew`, `ca.revoke`, `ca.crl` (the serial and SPIFFE identity are in `objectPath` and
 * `context`). Other strings are accepted so that capabilities
 * built later (signing, tokens) can record their own operations.
 */
export type AuditOperation =
  | "unwrap"
  | "decrypt"
  | "range-read"
  | "rewrap"
  | "init"
  | "key.create"
  | "key.rotate"
  | "key.disable"
  | "key.enable"
  | "key.destroy"
  | "key.set-min-version"
  | "ca.init"
  | "ca.issue"
  | "ca.renew"
  | "ca.revoke"
  | "ca.crl"
  | (string & {});

/** What a caller hands to a sink. The sink assigns `seq`, `time` (unless given) and the MAC. */
export interface AuditEvent {
  readonly operation: AuditOperation;
  readonly principal: string;
  readonly outcome: AuditOutcome;
  readonly keyName?: string | null;
  readonly keyVersion?: number | null;
  readonly objectPath?: string | null;
  /** Hex SHA-256 of the sealed header. */
  readonly headerHash?: string | null;
  /** The encryption context of the operation; stored as canonical JSON (keys sorted). */
  readonly context?: Readonly<Record<string, string>> | null;
  /** The stable error code when `outcome` is not "ok". */
  readonly errorCode?: string | null;
  /** Epoch milliseconds; defaults to the sink's clock. */
  readonly timeMs?: number;
}

/** A stored, chained audit record. */
export interface AuditRecord {
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly time: string;
  readonly principal: string;
  readonly operation: string;
  readonly keyName: string | null;
  readonly keyVersion: number | null;
  readonly objectPath: string | null;
  readonly headerHash: string | null;
  /** Canonical JSON of the encryption context, or null. */
  readonly context: string | null;
  readonly outcome: AuditOutcome;
  readonly errorCode: string | null;
  /** Hex HMAC-SHA256 chaining this record to its predecessor. */
  readonly mac: string;
}

/**
 * Where audit events go. Contract: `append` is synchronous and returns only once the event
 * is durably recorded; if it cannot record the event it throws (anything), and the caller
 * must then refuse the audited operation (fail closed). It never returns a partial success.
 *
 * @example
 * const sink: AuditSink = { append: (e) => forwardToSiem(e) }; // must throw on failure
 */
export interface AuditSink {
  append(event: AuditEvent): void;
}

/** Kind of problem `verifyAudit` can find. */
export type AuditProblemKind = "modified" | "deleted" | "inserted" | "reordered" | "truncated";

export interface AuditProblem {
  /** The sequence number the problem is about (for `deleted`/`truncated`, the first missing one). */
  readonly seq: number;
  readonly kind: AuditProblemKind;
  readonly detail: string;
}

export interface AuditVerifyResult {
  readonly ok: boolean;
  /** Number of records present. */
  readonly records: number;
  readonly problems: AuditProblem[];
}

/** The chain head: sequence number and MAC of the last record. Anchor it outside the DB to detect rollback (`pipeseal audit anchor`). */
export interface AuditHead {
  readonly seq: number;
  readonly mac: string;
  /** Hex HMAC of the head under the audit key (head-mac.ts); absent in a store not yet sealed. Internal to the stores. */
  readonly tag?: string;
}
