/**
 * The `LocalKeystore` handle: what an open keystore does, each method delegating to its
 * operation file. Opening and creating a keystore live in open-keystore.ts and
 * init-keystore.ts; keystore.ts re-exports all three as the module's public face.
 */
import { listAuditRecords, type ListAuditOptions } from "../audit/list.js";
import { readAuditHead } from "../audit/head.js";
import type { AuditEvent, AuditHead, AuditRecord, AuditVerifyResult } from "../audit/types.js";
import { verifyAuditChain } from "../audit/verify.js";
import type { AnchorEnvelope } from "../audit/anchor.js";
import type { AnchoredVerifyResult } from "../audit/anchor-check.js";
import { UsageError } from "../errors.js";
import { auditAnchorPublicKey, takeAuditAnchor, verifyAuditAnchored } from "./audit-anchor.js";
import { auditRecordLinks } from "./audit-link.js";
import { type CapabilityAuditEvent, auditedChange } from "./capability-audit.js";
import { ensureCapabilitySchema } from "./capability-schema.js";
import { type CreateKeyOptions, createKey } from "./admin/create-key.js";
import { type Db, busyToTyped, truncateWal } from "./db.js";
import { FieldKeyCache, deriveFieldKey } from "./field-key.js";
import type { KeyInfo } from "./key-info.js";
import { keyInfo, listKeyInfos } from "./admin/key-rows.js";
import { runOnSqlite } from "./admin/sqlite-statements.js";
import { runAdminOp } from "./admin-op.js";
import type { AuditObject, EncryptionContext, EntryTarget, Keyring, WrappedKey } from "./keyring.js";
import { recordOrFail } from "./record.js";
import { rotateKey } from "./admin/rotate-key.js";
import type { StoreContext } from "./store-context.js";
import { recordFailedUse, rewrapDataKey, unwrapDataKey } from "./unwrap.js";
import { destroyVersion } from "./admin/destroy-version.js";
import { disableVersion } from "./admin/disable-version.js";
import { enableVersion } from "./admin/enable-version.js";
import { setMinDecryptVersion } from "./admin/set-min-decrypt-version.js";
import { type KeyStateVerifyResult, verifyKeyState } from "./verify-state.js";
import { wrapDataKey } from "./wrap.js";

/**
 * The local keyring. Every method throws UsageError(INVALID_ARGUMENT) after `close()`.
 * See the operation files for each method's contract.
 */
export class LocalKeystore implements Keyring {
  readonly id = "local";
  #ctx: StoreContext | null;
  readonly #closeHooks: (() => void)[] = [];
  /** This handle's field keys; wiped at close (the wipe is a close hook) and on a key's state change. */
  readonly #fieldKeys = new FieldKeyCache((wipe) => this.#closeHooks.push(wipe));
  /** Set on a view made by {@link actingAs}: the handle that owns the database and root key. */
  readonly #owner: LocalKeystore | null;

  /** Use `openKeystore` (open-keystore.ts). */
  constructor(ctx: StoreContext, owner: LocalKeystore | null = null) {
    this.#ctx = ctx;
    this.#owner = owner;
  }

  /**
   * A view on the same database, root key and audit chain that records `principal` in its
   * audit records: the key service (src/server/store) serves many principals through one
   * open keystore. The view borrows the owner's resources: its `close()` only wipes its own
   * cached field keys, and it throws like a closed handle once the owner is closed.
   * With `annotate`, every record the view writes passes through it first: the key service
   * adds the decision that allowed the call, so the operation's record is also the decision's.
   * @internal Not exported from the package root; the key service store only.
   * @throws UsageError(INVALID_ARGUMENT) for an empty principal.
   */
  actingAs(principal: string, annotate?: (event: AuditEvent) => AuditEvent): LocalKeystore {
    const ctx = this.#live();
    if (typeof principal !== "string" || principal === "") throw new UsageError("INVALID_ARGUMENT", "a principal is required");
    const record = (event: AuditEvent) => ctx.record(annotate === undefined ? event : annotate(event));
    return new LocalKeystore({ ...ctx, principal, record }, this.#owner ?? this);
  }

  /**
   * Appends `event` as is (its own principal and operation) to the audit chain, durably:
   * the key service records its authorization decisions this way. Returns the record.
   * @internal Not exported from the package root; the key service store only.
   * @throws AuditError(AUDIT_WRITE_FAILED) (the caller must refuse the request: fail closed).
   */
  appendAuditEvent(event: AuditEvent): AuditRecord {
    return recordOrFail(this.#live(), event);
  }

  /** Who this handle acts as (recorded in audit). */
  get principal(): string {
    return this.#live().principal;
  }

  /** Creates a key; version 1 is primary. @throws KEY_EXISTS, INVALID_ARGUMENT */
  createKey(name: string, options: CreateKeyOptions = {}): KeyInfo {
    return runAdminOp(this.#live(), createKey(name, options));
  }

  /** Adds a new primary version. @throws KEY_NOT_FOUND */
  rotateKey(name: string): KeyInfo {
    return runAdminOp(this.#live(), rotateKey(name));
  }

  listKeys(): KeyInfo[] {
    const ctx = this.#live();
    return runOnSqlite(ctx.db, listKeyInfos(ctx.seal, ctx.now()));
  }

  /** @throws KEY_NOT_FOUND */
  showKey(name: string): KeyInfo {
    const ctx = this.#live();
    return runOnSqlite(ctx.db, keyInfo(ctx.seal, name, ctx.now()));
  }

  /** @throws KEY_STATE_CONFLICT for the primary ("rotate first") or a destroyed version */
  disableVersion(name: string, version: number): KeyInfo {
    this.#fieldKeys.drop(name); // this handle's cached field keys must not outlive a state change
    return runAdminOp(this.#live(), disableVersion(name, version));
  }

  /** @throws KEY_STATE_CONFLICT for a destroyed version */
  enableVersion(name: string, version: number): KeyInfo {
    return runAdminOp(this.#live(), enableVersion(name, version));
  }

  /** Crypto-shreds a non-primary version. @throws KEY_STATE_CONFLICT for the primary */
  destroyVersion(name: string, version: number): { walTruncated: boolean } {
    this.#fieldKeys.drop(name); // this handle's cached field keys must not outlive a state change
    const ctx = this.#live();
    runAdminOp(ctx, destroyVersion(name, version));
    return { walTruncated: truncateWal(ctx.db) }; // after COMMIT; the busy timeout applies
  }

  /** @throws INVALID_ARGUMENT unless 1 <= version <= primary */
  setMinDecryptVersion(name: string, version: number): KeyInfo {
    this.#fieldKeys.drop(name); // this handle's cached field keys must not outlive a state change
    return runAdminOp(this.#live(), setMinDecryptVersion(name, version));
  }

  /**
   * Runs `work` in one IMMEDIATE transaction, so every audit record written inside commits
   * together (one fsync at COMMIT) or not at all: the key service's group commit
   * (src/server/store/sqlite.ts) puts a batch of concurrent unwraps in one of these.
   * @internal Not exported from the package root; the key service store only.
   */
  transaction<T>(work: () => T): T {
    const live = this.#live();
    try {
      return live.batch(work);
    } catch (e) {
      throw busyToTyped(e, live.db.name);
    }
  }

  /**
   * Takes the fsync of commits off the event loop, for the key service's group commit: sets
   * this connection to `synchronous=NORMAL` (in WAL mode SQLite then appends a commit to the
   * WAL without syncing it; checkpoints still sync the WAL first and the database after) and
   * returns the WAL file's path. From then on the CALLER must fdatasync that file after every
   * commit and before acting on it (releasing a key, answering); a commit is then as durable
   * as under synchronous=FULL, and other requests run while the disk syncs.
   * @internal Not exported from the package root; the key service store only.
   * @throws UsageError(INVALID_ARGUMENT) on a view (only the owner of the connection may).
   */
  deferCommitSync(): string {
    const ctx = this.#live();
    if (this.#owner !== null) throw new UsageError("INVALID_ARGUMENT", "only the keystore's owner handle can change its durability mode");
    ctx.db.pragma("synchronous = NORMAL");
    return `${ctx.db.name}-wal`;
  }

  /** {@link unwrap}, synchronously (for use inside {@link transaction}). @internal */
  unwrapSync(entry: WrappedKey, context: EncryptionContext, object: AuditObject, open?: (dataKey: Buffer) => Buffer): Buffer {
    return unwrapDataKey(this.#live(), entry, context, object, open);
  }

  /** {@link rewrap}, synchronously (for use inside {@link transaction}). @internal */
  rewrapSync(entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): WrappedKey {
    return rewrapDataKey(this.#live(), entry, context, object, upgrade);
  }

  async wrap(keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey> {
    return wrapDataKey(this.#live(), keyName, dataKey, context, objectId);
  }

  async unwrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<Buffer> {
    return this.unwrapSync(entry, context, object);
  }

  async rewrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey> {
    return this.rewrapSync(entry, context, object, upgrade);
  }

  /**
   * Records that the operation an unwrap released `entry`'s key for then failed (Keyring contract).
   * @throws UsageError(INVALID_ARGUMENT), AuditError(AUDIT_WRITE_FAILED)
   */
  async reportFailure(entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void> {
    this.reportFailureSync(entry, context, object, errorCode);
  }

  /** {@link reportFailure}, synchronously (for the key service's group commit). */
  reportFailureSync(entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): void {
    recordFailedUse(this.#live(), entry, context, object, errorCode);
  }

  /**
   * Field keys (src/fields): HKDF-SHA-256 (RFC 5869) from the version's KEK, empty salt,
   * info = "pipeseal-field-v1" || purpose. Audited as `object.operation` (e.g. "field-reveal")
   * once per (key, version, purpose, length, operation) for this handle; cached and wiped on close.
   * @throws UsageError(INVALID_ARGUMENT); KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_DISABLED |
   *   KEY_DESTROYED | KEY_BELOW_MIN_VERSION); AuditError(AUDIT_WRITE_FAILED) (fail closed).
   */
  async deriveFieldKey(
    keyName: string,
    version: number | "primary",
    purpose: string,
    object: AuditObject,
    length = 32,
  ): Promise<{ key: Buffer; version: number }> {
    return deriveFieldKey(this.#live(), this.#fieldKeys, keyName, version, purpose, object, length);
  }

  /** Audit records, oldest first (the most recent `limit` when given). */
  listAudit(options: ListAuditOptions = {}): AuditRecord[] {
    return listAuditRecords(this.#live().db, options);
  }

  /** Verifies the audit chain; problems name the seq they concern. */
  verifyAudit(): AuditVerifyResult {
    const ctx = this.#live();
    return verifyAuditChain(ctx.db, (data) => ctx.master.auditMac(data));
  }

  /**
   * Whether `record` chains to its predecessor's MAC (hex; null for seq 1) under this keystore's
   * audit key: one link of `verifyAudit`, for a reader following the chain as it grows (`monitor run`).
   */
  auditRecordLinks(prevMac: string | null, record: AuditRecord): boolean {
    return auditRecordLinks(this.#live(), prevMac, record);
  }

  /** Checks the state MAC of every key and version row (key-state.ts); tampered rows are listed, not thrown. */
  verifyKeyState(): KeyStateVerifyResult {
    return verifyKeyState(this.#live());
  }

  /** The chain head; store it elsewhere to detect a rollback of the whole database. */
  auditHead(): AuditHead | null {
    const head = readAuditHead(this.#live().db);
    return head === null ? null : { seq: head.seq, mac: head.mac };
  }

  /**
   * A signed checkpoint of the audit head (src/audit/anchor.ts) to keep outside the keystore;
   * `verifyAuditAnchored` later proves the chain still extends it (no rollback, no fork).
   * @throws AuditError(AUDIT_CHAIN_BROKEN) if the head does not authenticate.
   */
  auditAnchor(): AnchorEnvelope {
    return takeAuditAnchor(this.#live());
  }

  /** The public key (SPKI PEM) anchors are signed with: derived from the root, so a restored database cannot change it. */
  auditAnchorPublicKey(): string {
    return auditAnchorPublicKey(this.#live());
  }

  /**
   * Verifies the chain, and that it extends each anchor (an envelope object or its JSON parsed).
   * Never throws on a bad anchor: each gets its own result (use anchoredFailure for the error).
   */
  verifyAuditAnchored(anchors: readonly unknown[]): Promise<AnchoredVerifyResult> {
    return verifyAuditAnchored(this.#live(), anchors);
  }

  /**
   * For capabilities that keep their own tables in keystore.db (`src/pki/ca`): runs `change`
   * and the audit record `event` in one IMMEDIATE transaction, so both commit or neither does
   * (fail closed, like the keystore's own admin operations). A PipesealError thrown by
   * `change` is recorded as `denied` (KeyError, UsageError) or `error`, best effort, and
   * rethrown. `change` must be synchronous and must not touch the keystore's own tables.
   * @internal Not exported from the package root; capability modules only.
   * @throws UsageError(INVALID_ARGUMENT) for an operation name that is not a dotted capability
   *   name; AuditError(AUDIT_WRITE_FAILED); whatever `change` throws.
   */
  auditedChange<T>(event: CapabilityAuditEvent, change: (db: Db) => T): T {
    return auditedChange(this.#live(), event, change);
  }

  /**
   * For capabilities that keep their own tables in keystore.db (`src/secrets`): applies their
   * pending migrations, versioned apart from the keystore's own (capability-schema.ts).
   * @internal Not exported from the package root; capability modules only.
   * @throws UsageError(INVALID_ARGUMENT); KeystoreError(KEYSTORE_CORRUPT) for a newer schema.
   */
  ensureTables(capability: string, migrations: readonly string[]): void {
    ensureCapabilitySchema(this.#live().db, capability, migrations);
  }

  /**
   * Read access to keystore.db for capability tables, inside one (deferred) transaction so
   * the reads see one snapshot. Not audited: `read` must only read.
   * @internal Not exported from the package root; capability modules only.
   */
  readTables<T>(read: (db: Db) => T): T {
    const ctx = this.#live();
    return ctx.db.transaction(() => read(ctx.db)).deferred();
  }

  /**
   * For capabilities that crypto-shred rows of their own tables (`src/fields/subjects`):
   * checkpoints the WAL into the database and truncates it to zero bytes, so no copy of a
   * just-NULLed secret stays in WAL frames (as `destroyVersion` does for KEKs). Call it
   * after the shredding transaction has committed.
   * @internal Not exported from the package root; capability modules only.
   * @returns false if another connection blocked the truncation (it then happens at the
   *   next checkpoint or close).
   */
  truncateWal(): boolean {
    return truncateWal(this.#live().db);
  }

  /**
   * For capabilities that cache key material derived through this handle (subject keys):
   * `wipe` runs when the keystore closes, before the database closes. Best effort: a
   * throwing hook does not stop the others or the close.
   * @internal Not exported from the package root; capability modules only.
   */
  onClose(wipe: () => void): void {
    this.#live();
    this.#closeHooks.push(wipe);
  }

  /** Checkpoints and truncates the WAL, closes the database and wipes the sub-keys. Idempotent. */
  close(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    this.#ctx = null;
    for (const wipe of this.#closeHooks.splice(0)) {
      try {
        wipe();
      } catch {
        // best effort: the close must go on
      }
    }
    if (this.#owner !== null) return; // a view: the owner closes the database and root key
    try {
      // opportunistic: a writer elsewhere (another process) keeps its WAL and checkpoints it
      // later; a closing reader must not wait the busy timeout for it. (destroyVersion
      // truncates with the full timeout and reports whether it could.)
      ctx.db.pragma("busy_timeout = 0");
      truncateWal(ctx.db);
    } finally {
      ctx.db.close();
      ctx.seal.close();
      ctx.master.close();
    }
  }

  #live(): StoreContext {
    if (this.#ctx === null || (this.#owner !== null && this.#owner.#ctx === null)) throw new UsageError("INVALID_ARGUMENT", "the keystore is closed");
    return this.#ctx;
  }
}
