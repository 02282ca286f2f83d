/**
 * The key service's store: everything a `pipeseal serve` replica persists, behind one async
 * interface with two implementations (SQLite: the local keystore behind an adapter;
 * PostgreSQL: shared by many replicas). One shared test suite runs against both
 * (test/server/store.suite.ts).
 *
 * The store does not authenticate or authorize: the server decides (src/server/policy) and
 * passes the caller's principal to every call, and the store records it in the audit chain.
 *
 * Contract common to every method:
 * - Every change and its audit record commit in ONE transaction (both or neither). A change
 *   the store refuses (bad key state, bad argument) is recorded as `denied`, best effort.
 * - Key material leaves only through `unwrap`, and only after its `ok` audit record has
 *   committed; if it cannot be written, the key is wiped and AuditError(AUDIT_WRITE_FAILED)
 *   is thrown (fail closed).
 * - Group commit: `unwrap`, `rewrap` and `appendAudit` calls that arrive while a commit is in
 *   flight (or in the same turn of the event loop) are committed together in ONE transaction
 *   (one fsync / one COMMIT), their records chained in arrival order inside it; each caller
 *   is answered only after the transaction carrying its records committed. If that
 *   transaction fails, every call in it rejects with AuditError(AUDIT_WRITE_FAILED) and no
 *   key is released. A refusal (bad key state, forged entry) is recorded in the batch and
 *   rejects only its own call. Batches are bounded (`maxBatch`, default 128 calls).
 * - One transaction per request: calls made synchronously inside `together(fn)` are one group
 *   that is never split across batches, so a batch request's records commit together or not
 *   at all (src/server/authz.ts).
 * - One record per allowed operation: a call made as an `Attributed` caller (actor.ts)
 *   writes its records with the server's decision in their context (`@rule`, `@delegate`,
 *   `@delegation`) and marks the decision recorded; the server then writes no record of its own.
 * - After `close()` every method throws UsageError(INVALID_ARGUMENT).
 * - Bad arguments throw UsageError(INVALID_ARGUMENT) (names: KEY_NAME_PATTERN; versions
 *   1..2^32-1; contexts: src/keys/context.ts limits). Storage failures (connection lost,
 *   disk full) throw KeystoreError(KEYSTORE_CORRUPT | IO_ERROR) or the driver's error.
 *
 * @example
 * const store = await openSqliteStore({ home });          // or openPostgresStore({ … })
 * await store.createKey("admin@example", "datasets/pii");
 * const entry = await store.wrap("svc/trainer", "datasets/pii", dataKey, { dataset: "users" });
 * const dk = await store.unwrap("svc/trainer", entry, { dataset: "users" }, { operation: "decrypt" });
 * dk.fill(0);
 * await store.close();
 */
import type { AnchorEnvelope } from "../../audit/anchor.js";
import type { AnchoredVerifyResult } from "../../audit/anchor-check.js";
import type { CommitStats } from "../../audit/group-commit.js";
import type { ExportAuditOptions } from "../../audit/export-local.js";
import type { ListAuditOptions } from "../../audit/list.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import type { CreateKeyOptions } from "../../keys/admin/create-key.js";
import type { KeyInfo } from "../../keys/key-info.js";
import type { AuditObject, EncryptionContext, EntryTarget, WrappedKey } from "../../keys/keyring.js";
import type { NewSecretVersion, SecretRow, SecretStateChange, SecretVersionRow } from "../../secrets/rows.js";
import type { Actor } from "./actor.js";

export type { AuditRecord, AuditVerifyResult, CommitStats, CreateKeyOptions, KeyInfo, ListAuditOptions };
export type { AuditObject, EncryptionContext, WrappedKey };
export type { NewSecretVersion, SecretRow, SecretVersionRow };
export type { Actor, Attributed, DecisionNote } from "./actor.js";

/** Uses an unwrapped data key inside the audited unwrap (KeyStore.unwrap); the key is wiped after. */
export type OpenWithKey = (dataKey: Buffer) => Buffer;

/** An authenticated identity, e.g. a SPIFFE URI from the client certificate's URI SAN. */
export type Principal = string;

/**
 * A decision the server made about a request, with the rule that decided it, recorded on its
 * own only where no operation follows (an allowed operation's record carries its decision
 * instead, actor.ts). Recorded by {@link KeyStore.appendAudit} as an audit record whose
 * `operation` is `authz.<operation>` (so decision records are never counted as the
 * operations themselves), outcome `denied` (refused) or `error` (allowed, but the operation
 * failed before it started: `errorCode` says why), and whose context holds the request's
 * context plus `"@rule": rule` (`@` cannot occur in an encryption-context key, so the rule
 * never collides with one).
 */
export interface DecisionEvent {
  readonly principal: Principal;
  /** The API operation decided on: "unwrap", "key.rotate", "policy.approve", … (`[a-z][a-z0-9.-]{0,47}`). */
  readonly operation: string;
  readonly allowed: boolean;
  /** Id of the rule that decided: a policy rule, a built-in separation-of-duties rule, "default-deny" (1..128 chars). */
  readonly rule: string;
  readonly keyName?: string | null;
  readonly keyVersion?: number | null;
  readonly objectPath?: string | null;
  /** The encryption context of the request, if any (validated like any context). */
  readonly context?: EncryptionContext | null;
  /** Stable error code sent to the caller (ACCESS_DENIED when denied; why the operation failed when allowed). */
  readonly errorCode?: string | null;
  /** A delegate's request: the identity it acted for (recorded under `@on-behalf-of`; `principal` is the delegate). */
  readonly onBehalfOf?: string | null;
  /** The `delegates` entry that let the delegate ask (recorded under `@delegation`). */
  readonly delegation?: string | null;
}

/** One secret and its versions, as stored (src/secrets/rows.ts shapes). */
export interface SecretRows {
  readonly secret: SecretRow;
  readonly versions: readonly SecretVersionRow[];
}

/** The audit record of a secret change or read (operation `secret.set`, `secret.rotate`, `secret.read`). */
export type SecretEvent = Pick<AuditEvent, "operation" | "keyName" | "keyVersion" | "objectPath" | "context">;

/** A stored policy proposal or approved policy. Times are epoch milliseconds. */
export interface PolicyRecord {
  readonly id: string;
  readonly yaml: string;
  readonly proposer: Principal;
  readonly proposedAt: number;
  /** `proposed` until approved; `active` for the newest approved; `superseded` once another is approved. */
  readonly state: "proposed" | "active" | "superseded";
  readonly approver: Principal | null;
  readonly approvedAt: number | null;
}

/** The most policy YAML the store accepts (bytes). */
export const MAX_POLICY_BYTES = 1024 * 1024;

export interface KeyStore {
  /** "sqlite" or "postgres" (logs, health). */
  readonly kind: "sqlite" | "postgres";
  /** The keyring id written into wrapped entries ("local" for both stores: entries move between them). */
  readonly keyringId: string;

  // ── key administration (audited as key.create, key.rotate, …) ──────────────────────────
  /** Creates a key; version 1 is primary. @throws KeyError(KEY_EXISTS), UsageError(INVALID_ARGUMENT) */
  createKey(principal: Actor, name: string, options?: CreateKeyOptions): Promise<KeyInfo>;
  /**
   * Adds a new primary version (max + 1). Safe under concurrency across replicas: versions
   * are contiguous and exactly one is primary. @throws KeyError(KEY_NOT_FOUND)
   */
  rotateKey(principal: Actor, name: string): Promise<KeyInfo>;
  /** All keys by name. Not audited (the server audits the decision). */
  listKeys(): Promise<KeyInfo[]>;
  /** @throws KeyError(KEY_NOT_FOUND). Not audited. */
  showKey(name: string): Promise<KeyInfo>;
  /** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT for the primary or a destroyed version) */
  disableVersion(principal: Actor, name: string, version: number): Promise<KeyInfo>;
  /** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT for a destroyed version) */
  enableVersion(principal: Actor, name: string, version: number): Promise<KeyInfo>;
  /**
   * Crypto-shreds a non-primary version (its stored KEK is erased; PostgreSQL then rewrites the
   * key-versions table with VACUUM FULL, best effort, so no dead row version in the table's
   * file still holds it; see pg-shred.ts for what remains in WAL). Idempotent.
   * @throws KeyError(KEY_STATE_CONFLICT for the primary, KEY_NOT_FOUND, KEY_VERSION_NOT_FOUND)
   */
  destroyVersion(principal: Actor, name: string, version: number): Promise<KeyInfo>;
  /** @throws UsageError(INVALID_ARGUMENT) unless 1 <= version <= primary; KeyError(KEY_NOT_FOUND) */
  setMinDecryptVersion(principal: Actor, name: string, version: number): Promise<KeyInfo>;

  // ── the Keyring operations (src/keys/keyring.ts), per principal ────────────────────────
  /**
   * Wraps a 32-byte data key under the primary version; the use is counted against the
   * version's GCM limit. Not audited by the store (the server audits the decision).
   * @throws KeyError(KEY_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_USAGE_LIMIT)
   */
  wrap(principal: Actor, keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey>;
  /**
   * Returns the data key (the caller wipes it) after its audit record committed.
   *
   * With `open`, the key never leaves: `open(dataKey)` runs inside the audited operation, its
   * result is returned instead, and the record's outcome is the whole operation's, so a
   * payload that does not authenticate is recorded as a failed decrypt (`error`,
   * DECRYPT_FAILED), not as an `ok` one. The key is wiped either way. `open` must only
   * compute (the PostgreSQL store may run it twice, see pg-batch.ts).
   * @throws DecryptError (wrong context, forged entry, or what `open` throws), KeyError(KEYRING_MISMATCH |
   *   KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_DISABLED | KEY_DESTROYED | KEY_BELOW_MIN_VERSION),
   *   AuditError(AUDIT_WRITE_FAILED) (fail closed).
   */
  unwrap(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, open?: OpenWithKey): Promise<Buffer>;
  /**
   * Moves an entry to the primary version without releasing the data key; audited as
   * "rewrap". The new entry is returned only after the record committed. SQLite counts the
   * wrap in the same transaction; PostgreSQL counts it in its own transaction after that
   * commit (as `wrap`, so concurrent batches never lock key rows against each other).
   * A v2 entry (with a binding) is checked and comes back with its tag; `upgrade` makes a v1
   * entry a v2 one for that file and place (src/keys/bound-wrap.ts). Throws as unwrap and wrap.
   */
  rewrap(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey>;

  /**
   * Records that the operation an unwrap released `entry`'s key for then failed on the
   * client (authentication, range, truncation): outcome "error" with `errorCode`, under the
   * caller's own principal (a report can only be evidence against its reporter).
   * @throws UsageError(INVALID_ARGUMENT) for a bad operation or code; AuditError(AUDIT_WRITE_FAILED)
   */
  recordFailedUse(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void>;

  // ── audit ───────────────────────────────────────────────────────────────────────────────
  /**
   * Records a server decision (see {@link DecisionEvent}); returns once it is durable (group
   * committed with the calls around it; inside `together`, with the operation it allowed).
   * @throws AuditError(AUDIT_WRITE_FAILED): the server must then refuse the request (fail closed).
   */
  appendAudit(event: DecisionEvent): Promise<AuditRecord>;
  /**
   * Records an event the server built itself (a delegate's report, decision.ts
   * `delegateRecordEvent`), group committed like {@link appendAudit}.
   * @throws AuditError(AUDIT_WRITE_FAILED)
   */
  appendEvent(event: AuditEvent): Promise<AuditRecord>;
  /**
   * Runs `submit` synchronously; the audited calls it makes without awaiting (`appendAudit`,
   * `unwrap`, `rewrap`) commit in one transaction, in call order, all or none. Returns what
   * `submit` returns (typically their promises).
   * @example
   * const [decided, dk] = store.together(() => [store.appendAudit(decision), store.unwrap(p, entry, ctx, obj)]);
   */
  together<T>(submit: () => T): T;
  /** Group-commit counters (transactions, calls carried, largest batch). */
  commitStats(): CommitStats;
  /** Records oldest first (the most recent `limit` when given). */
  listAudit(options?: ListAuditOptions): Promise<AuditRecord[]>;
  /** Verifies the whole chain; never throws on tampering, problems are returned. */
  verifyAudit(): Promise<AuditVerifyResult>;
  /** Every record (or those since `sinceMs`) as JSON lines, oldest first, one `AuditRecord` + "\n" per string. */
  exportAudit(options?: ExportAuditOptions): AsyncIterable<string>;
  /**
   * A signed anchor of the chain head (src/audit/anchor.ts) and the anchor public key (SPKI PEM).
   * @throws AuditError(AUDIT_CHAIN_BROKEN) if the head does not authenticate.
   */
  auditAnchor(): Promise<{ anchor: AnchorEnvelope; publicKey: string }>;
  /** Verifies the chain and whether it extends each anchor (anchor file texts or envelopes); never throws on a bad anchor. */
  verifyAuditAnchored(anchors: readonly unknown[]): Promise<AnchoredVerifyResult>;

  // ── policies (the store persists; the policy engine validates YAML and decides who may approve) ──
  /** Stores a proposal; returns its id. Audited as policy.propose. @throws UsageError(INVALID_ARGUMENT) for empty or > MAX_POLICY_BYTES YAML */
  proposePolicy(yaml: string, proposer: Actor): Promise<string>;
  /**
   * Makes a proposal the active policy (the previous one becomes superseded). Audited as
   * policy.approve (refusals as denied).
   * @throws UsageError(INVALID_ARGUMENT) for an unknown id, a proposal that is not pending,
   *   or an approver who is the proposer (separation of duties; until dedicated codes exist).
   */
  approvePolicy(id: string, approver: Actor): Promise<PolicyRecord>;
  /** The active policy, or null if none was ever approved. */
  activePolicy(): Promise<PolicyRecord | null>;
  /** Every proposal and policy, newest first. */
  listPolicies(): Promise<PolicyRecord[]>;

  // ── secrets (the rules are in src/server/secrets.ts; the store keeps the rows) ───────────
  /**
   * Adds `v` as the secret's new primary version (the secret itself at version 1), with its
   * audit record (`event`, recorded as `principal`), in one transaction. Returns false,
   * changing nothing, when `v.version` is not the next version (another writer: retry).
   * The value is already sealed (src/secrets/seal.ts) and its data key wrapped by `wrap`.
   */
  putSecretVersion(principal: Actor, v: NewSecretVersion, event: SecretEvent): Promise<boolean>;
  /** A secret's rows, or undefined when there is none. Not audited. */
  secretRows(name: string): Promise<SecretRows | undefined>;
  /** Every secret's rows, by name. Not audited. */
  listSecretRows(): Promise<SecretRows[]>;
  /**
   * Disables, enables or destroys (crypto-shreds: wrapped data key and sealed value deleted)
   * one version or, for destroy, `"all"`, with its audit record `event`, in one transaction;
   * the rules are src/secrets/rows.ts `plannedState`. After a destroy, SQLite truncates its WAL
   * and PostgreSQL rewrites secret_versions (VACUUM FULL, best effort, as for KEKs).
   * @throws KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT)
   */
  changeSecretState(principal: Actor, name: string, version: number | "all", change: SecretStateChange, event: SecretEvent): Promise<void>;
  /** Notes a successful read (who, for what: `secret show`'s last read) with its audit record `event` (`secret.read`), in one transaction. */
  markSecretRead(principal: Actor, name: string, version: number, purpose: string, event: SecretEvent): Promise<void>;

  /**
   * Calls `listener(keyName)` after every key change made through this store (create, rotate,
   * disable, enable, destroy, minimum version) has committed, so caches of key state in this
   * process (token keys, src/server/token-keys.ts) drop at once. Changes made elsewhere (another
   * replica, the CLI) are not seen: such caches must also bound their age. A throwing listener
   * is ignored.
   */
  onKeyChange(listener: (keyName: string) => void): void;

  /** Releases connections and wipes the root key it holds. Idempotent. */
  close(): Promise<void>;
}
