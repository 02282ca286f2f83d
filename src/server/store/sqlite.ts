/**
 * The SQLite store: the local keystore (src/keys/keystore.ts) behind the KeyStore interface.
 * One open keystore; each call runs through an `actingAs(principal)` view, so the keystore's
 * own operations, state rules and audit chain apply unchanged and record the caller.
 * Policies live in the keystore's `server_policies` table (migration 4), each change in one
 * transaction with its audit record (`auditedChange`).
 *
 * Group commit: unwrap, rewrap and decision records go through a {@link GroupCommit}; the
 * calls that arrive in one turn of the event loop run in ONE IMMEDIATE transaction
 * (`LocalKeystore.transaction`), and the batch costs one fsync, not N.
 *
 * Durability off the event loop: better-sqlite3 is synchronous, so under synchronous=FULL
 * every commit's fsync would stop the whole server. The store's connection runs with
 * synchronous=NORMAL instead (`deferCommitSync`) and, after EVERY commit it makes (a batch,
 * a key change, a wrap's use count, a policy), fdatasyncs the WAL file through the libuv
 * thread pool before it answers or releases a key. The WAL holds the committed frames, so
 * once that sync returns the commit survives a power loss exactly as under FULL; meanwhile
 * the loop serves other requests, which queue for the next batch. If the sync fails, the
 * batch fails closed (AUDIT_WRITE_FAILED, keys wiped).
 */
import type { AnchorEnvelope } from "../../audit/anchor.js";
import type { AnchoredVerifyResult } from "../../audit/anchor-check.js";
import type { ListAuditOptions } from "../../audit/list.js";
import { type CommitStats, GroupCommit, asAuditFailure, settleJob, wipeResults, type Settled } from "../../audit/group-commit.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import { type ExportAuditOptions, auditRecordsPaged } from "../../audit/export-local.js";
import { UsageError } from "../../errors.js";
import type { CreateKeyOptions } from "../../keys/admin/create-key.js";
import type { KeyInfo } from "../../keys/key-info.js";
import type { AuditObject, EncryptionContext, EntryTarget, WrappedKey } from "../../keys/keyring.js";
import { type LocalKeystore, openKeystore } from "../../keys/keystore.js";
import type { Pkcs11OpenOptions } from "../../keys/pkcs11/index.js";
import { decisionToAuditEvent } from "./decision.js";
import { KeyChangeListeners } from "./key-changes.js";
import { type PolicyRow, auditLine, checkApproval, checkProposal, newPolicyId, toPolicyRecord } from "./policies.js";
import { type Actor, principalOf } from "./actor.js";
import type { DecisionEvent, KeyStore, NewSecretVersion, OpenWithKey, PolicyRecord, SecretEvent, SecretRows } from "./types.js";
import { type SecretStateChange, allSecretRows, applyStateChange, insertSecretVersion, markRead, secretRow, versionRows } from "../../secrets/rows.js";
import { KeyError } from "../../errors.js";
import { SECRETS_MIGRATIONS } from "../../secrets/schema.js";
import { WalSync } from "./wal-sync.js";

export interface SqliteStoreOptions {
  /** Keystore home (created by `pipeseal init`). */
  readonly home: string;
  /** For a passphrase-protected keystore. */
  readonly passphrase?: string;
  /** Principal of the service itself (audit of records it makes on its own). */
  readonly servicePrincipal?: string;
  readonly now?: () => number;
  /** Most requests per group-commit transaction (default 128). */
  readonly maxBatch?: number;
  /** For a keystore made with `pipeseal init --hsm`: how to log in to the token that holds its root key. */
  readonly pkcs11?: Pkcs11OpenOptions;
}

/** @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | MASTER_KEY_* | KEYSTORE_CORRUPT) as openKeystore (MASTER_KEY_UNAVAILABLE for a wrong PIN or a missing token key). */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const ks = await openKeystore(options.home, {
    principal: options.servicePrincipal ?? "pipeseal-serve",
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.pkcs11 === undefined ? {} : { pkcs11: options.pkcs11 }),
  });
  try {
    return new SqliteStore(ks, options.now ?? Date.now, options.maxBatch);
  } catch (e) {
    ks.close();
    throw e;
  }
}

/** Read access to the keystore behind a SQLite store (SqliteStore.dashboardView). */
export type SqliteReadView = Pick<LocalKeystore, "readTables" | "listKeys" | "showKey" | "ensureTables">;

export class SqliteStore implements KeyStore {
  readonly kind = "sqlite" as const;
  readonly keyringId = "local";
  #ks: LocalKeystore | null;
  readonly #wal: WalSync;
  readonly #now: () => number;
  /** A job runs inside the batch transaction; it throws a refusal, or anything to abort the batch. */
  readonly #batch: GroupCommit<() => unknown, unknown>;
  readonly #changes = new KeyChangeListeners();

  /** Use {@link openSqliteStore}. */
  constructor(ks: LocalKeystore, now: () => number, maxBatch?: number) {
    this.#wal = new WalSync(ks.deferCommitSync());
    ks.ensureTables("secrets", SECRETS_MIGRATIONS); // the same tables as the local secret store (src/secrets)
    this.#ks = ks;
    this.#now = now;
    this.#batch = new GroupCommit((jobs) => this.#commit(jobs), maxBatch === undefined ? {} : { maxBatch });
  }

  async createKey(principal: Actor, name: string, options: CreateKeyOptions = {}): Promise<KeyInfo> {
    return this.#changes.after(name, this.#durable(this.#as(principal, (ks) => ks.createKey(name, options))));
  }
  async rotateKey(principal: Actor, name: string): Promise<KeyInfo> {
    return this.#changes.after(name, this.#durable(this.#as(principal, (ks) => ks.rotateKey(name))));
  }
  async listKeys(): Promise<KeyInfo[]> {
    return this.#live().listKeys();
  }
  /**
   * The reads the dashboard's pages make (keys, the audit tables, the CA's certificates), on
   * the keystore behind this store: only reads, never a change, so every change the dashboard
   * asks for still goes through the server's authorization and this store's audited methods.
   */
  dashboardView(): SqliteReadView {
    return {
      readTables: (read) => this.#live().readTables(read),
      listKeys: () => this.#live().listKeys(),
      showKey: (name) => this.#live().showKey(name),
      ensureTables: (capability, migrations) => this.#live().ensureTables(capability, migrations),
    };
  }
  async showKey(name: string): Promise<KeyInfo> {
    return this.#live().showKey(name);
  }
  async disableVersion(principal: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#changes.after(name, this.#durable(this.#as(principal, (ks) => ks.disableVersion(name, version))));
  }
  async enableVersion(principal: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#changes.after(name, this.#durable(this.#as(principal, (ks) => ks.enableVersion(name, version))));
  }
  async destroyVersion(principal: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#changes.after(
      name,
      this.#durable(
        this.#as(principal, (ks) => {
          ks.destroyVersion(name, version);
          return ks.showKey(name);
        }),
      ),
    );
  }
  async setMinDecryptVersion(principal: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#changes.after(name, this.#durable(this.#as(principal, (ks) => ks.setMinDecryptVersion(name, version))));
  }

  async wrap(principal: Actor, keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey> {
    // the use count is durable before the entry leaves (a lost count could only be of an entry never released)
    return this.#durable(await this.#asAsync(principal, (ks) => ks.wrap(keyName, dataKey, context, objectId)));
  }
  async unwrap(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, open?: OpenWithKey): Promise<Buffer> {
    return this.#batched(principal, (ks) => ks.unwrapSync(entry, context, object, open)) as Promise<Buffer>;
  }
  async rewrap(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey> {
    return this.#batched(principal, (ks) => ks.rewrapSync(entry, context, object, upgrade)) as Promise<WrappedKey>;
  }
  async recordFailedUse(principal: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void> {
    await this.#batched(principal, (ks) => ks.reportFailureSync(entry, context, object, errorCode));
  }
  /** Field/derived keys (HKDF from the version's KEK, see LocalKeystore.deriveFieldKey); audited per call. */
  async deriveKey(
    principal: Actor,
    keyName: string,
    version: number | "primary",
    purpose: string,
    object: AuditObject,
    length = 32,
  ): Promise<{ key: Buffer; version: number }> {
    const derived = await this.#asAsync(principal, (ks) => ks.deriveFieldKey(keyName, version, purpose, object, length));
    try {
      return await this.#durable(derived);
    } catch (e) {
      derived.key.fill(0);
      throw e;
    }
  }

  async appendAudit(event: DecisionEvent): Promise<AuditRecord> {
    const e = decisionToAuditEvent(event);
    const ks = this.#live();
    return this.#batch.submit(() => ks.appendAuditEvent(e)) as Promise<AuditRecord>;
  }
  async appendEvent(event: AuditEvent): Promise<AuditRecord> {
    const ks = this.#live();
    return this.#batch.submit(() => ks.appendAuditEvent(event)) as Promise<AuditRecord>;
  }
  together<T>(submit: () => T): T {
    return this.#batch.together(submit);
  }
  commitStats(): CommitStats {
    return this.#batch.stats;
  }
  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    return this.#live().listAudit(options);
  }
  async verifyAudit(): Promise<AuditVerifyResult> {
    return this.#live().verifyAudit();
  }
  async auditAnchor(): Promise<{ anchor: AnchorEnvelope; publicKey: string }> {
    const ks = this.#live();
    return { anchor: ks.auditAnchor(), publicKey: ks.auditAnchorPublicKey() };
  }
  async verifyAuditAnchored(anchors: readonly unknown[]): Promise<AnchoredVerifyResult> {
    return this.#live().verifyAuditAnchored(anchors);
  }
  async *exportAudit(options: ExportAuditOptions = {}): AsyncIterable<string> {
    for await (const r of auditRecordsPaged(this.#live(), options)) yield auditLine(r);
  }

  async proposePolicy(yaml: string, who: Actor): Promise<string> {
    const proposer = principalOf(who);
    checkProposal(yaml, proposer);
    const id = newPolicyId();
    const now = this.#now();
    this.#as(who, (ks) =>
      ks.auditedChange({ operation: "policy.propose", objectPath: id }, (db) => {
        db.prepare("INSERT INTO server_policies (id, yaml, proposer, proposed_at, state) VALUES (?, ?, ?, ?, 'proposed')").run(id, yaml, proposer, now);
      }),
    );
    return this.#durable(id);
  }

  async approvePolicy(id: string, who: Actor): Promise<PolicyRecord> {
    const approver = principalOf(who);
    if (typeof approver !== "string" || approver === "") throw new UsageError("INVALID_ARGUMENT", "an approver is required");
    const now = this.#now();
    const approved = this.#as(who, (ks) =>
      ks.auditedChange({ operation: "policy.approve", objectPath: typeof id === "string" ? id.slice(0, 64) : null }, (db) => {
        const row = db.prepare("SELECT * FROM server_policies WHERE id = ?").get(id) as PolicyRow | undefined;
        checkApproval(id, row === undefined ? undefined : toPolicyRecord(row), approver);
        db.prepare("UPDATE server_policies SET state = 'superseded' WHERE state = 'active'").run();
        db.prepare("UPDATE server_policies SET state = 'active', approver = ?, approved_at = ? WHERE id = ?").run(approver, now, id);
        return toPolicyRecord(db.prepare("SELECT * FROM server_policies WHERE id = ?").get(id) as PolicyRow);
      }),
    );
    return this.#durable(approved);
  }

  async activePolicy(): Promise<PolicyRecord | null> {
    const row = this.#live().readTables((db) => db.prepare("SELECT * FROM server_policies WHERE state = 'active'").get() as PolicyRow | undefined);
    return row === undefined ? null : toPolicyRecord(row);
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    const rows = this.#live().readTables((db) => db.prepare("SELECT * FROM server_policies ORDER BY proposed_at DESC, id").all() as PolicyRow[]);
    return rows.map(toPolicyRecord);
  }

  async putSecretVersion(principal: Actor, v: NewSecretVersion, event: SecretEvent): Promise<boolean> {
    return this.#durable(this.#as(principal, (ks) => ks.auditedChange(event, (db) => insertSecretVersion(db, v))));
  }
  async secretRows(name: string): Promise<SecretRows | undefined> {
    return this.#live().readTables((db) => {
      const secret = secretRow(db, name);
      return secret === undefined ? undefined : { secret, versions: versionRows(db, name) };
    });
  }
  async listSecretRows(): Promise<SecretRows[]> {
    return this.#live().readTables((db) => allSecretRows(db).map((secret) => ({ secret, versions: versionRows(db, secret.name) })));
  }
  async changeSecretState(principal: Actor, name: string, version: number | "all", change: SecretStateChange, event: SecretEvent): Promise<void> {
    const now = this.#now();
    await this.#durable(
      this.#as(principal, (ks) =>
        ks.auditedChange(event, (db) => {
          const secret = secretRow(db, name);
          if (secret === undefined) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}`);
          applyStateChange(db, change, secret, version, now);
        }),
      ),
    );
    if (change === "destroy") this.#live().truncateWal(); // no copy of the shredded value stays in WAL frames
  }
  async markSecretRead(principal: Actor, name: string, version: number, purpose: string, event: SecretEvent): Promise<void> {
    const now = this.#now();
    await this.#durable(this.#as(principal, (ks) => ks.auditedChange(event, (db) => markRead(db, name, version, principalOf(principal), purpose, now))));
  }

  onKeyChange(listener: (keyName: string) => void): void {
    this.#changes.add(listener);
  }

  async close(): Promise<void> {
    await this.#batch.idle(); // queued requests commit (or fail) before the database closes
    const ks = this.#ks;
    if (ks === null) return;
    this.#ks = null;
    try {
      ks.close(); // checkpoints (syncing the WAL, then the database) and closes
    } finally {
      this.#wal.close();
    }
  }

  #live(): LocalKeystore {
    if (this.#ks === null) throw new UsageError("INVALID_ARGUMENT", "the store is closed");
    return this.#ks;
  }

  /**
   * After a commit made outside a batch: its WAL frames reach the disk (off the event loop)
   * before the caller gets `result`. @throws AuditError(AUDIT_WRITE_FAILED) if the sync fails.
   */
  async #durable<T>(result: T): Promise<T> {
    try {
      await this.#wal.sync();
    } catch (e) {
      throw asAuditFailure(e);
    }
    return result;
  }

  /** Queues `op` (run as `principal`) for the next group-commit transaction. */
  #batched(principal: Actor, op: (ks: LocalKeystore) => unknown): Promise<unknown> {
    this.#live();
    return this.#batch.submit(() => this.#as(principal, op));
  }

  /** One IMMEDIATE transaction for the whole batch, then its WAL sync; on failure nothing it produced is released. */
  async #commit(jobs: readonly (() => unknown)[]): Promise<Settled<unknown>[]> {
    const results: Settled<unknown>[] = [];
    try {
      this.#live().transaction(() => {
        for (const job of jobs) results.push(settleJob(job));
      });
      await this.#wal.sync();
    } catch (e) {
      wipeResults(results);
      throw e;
    }
    return results;
  }

  /** Runs `op` through a view acting as `who` (its records carry who's decision, actor.ts), then wipes the view. */
  #as<T>(who: Actor, op: (ks: LocalKeystore) => T): T {
    const view = actingAs(this.#live(), who);
    try {
      return op(view);
    } finally {
      view.close();
    }
  }

  async #asAsync<T>(who: Actor, op: (ks: LocalKeystore) => Promise<T>): Promise<T> {
    const view = actingAs(this.#live(), who);
    try {
      return await op(view);
    } finally {
      view.close();
    }
  }
}

function actingAs(ks: LocalKeystore, who: Actor): LocalKeystore {
  return typeof who === "string" ? ks.actingAs(who) : ks.actingAs(principalOf(who), (e) => who.annotate(e));
}
