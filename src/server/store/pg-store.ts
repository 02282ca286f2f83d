/**
 * The PostgreSQL store (opened by postgres.ts): the KeyStore methods, each delegating to the
 * file of its idea. Unwrap, rewrap and decision records go through a group committer
 * (pg-batch.ts: one durable write per batch, usually one round trip); key administration
 * (src/keys/admin, over pg-key-statements.ts) and policies commit with their record in their
 * own transaction (pg-policies.ts). Refusals are recorded (`denied`/`error`); failures of the record fail closed.
 */
import type pg from "pg";
import type { PoolClient } from "pg";
import { type CommitStats, GroupCommit, asAuditFailure, isRefusal } from "../../audit/group-commit.js";
import type { AnchorEnvelope } from "../../audit/anchor.js";
import type { AnchoredVerifyResult } from "../../audit/anchor-check.js";
import type { ExportAuditOptions } from "../../audit/export-local.js";
import { auditAnchorPg, verifyAuditAnchoredPg } from "./pg-anchor.js";
import { type ListAuditOptions, toRecord } from "../../audit/list.js";
import type { AuditRow } from "../../audit/schema.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import { UsageError, auditOutcomeOf, isPipesealError } from "../../errors.js";
import { type CreateKeyOptions, createKey } from "../../keys/admin/create-key.js";
import { destroyVersion } from "../../keys/admin/destroy-version.js";
import { disableVersion } from "../../keys/admin/disable-version.js";
import { enableVersion } from "../../keys/admin/enable-version.js";
import { keyInfo, listKeyInfos } from "../../keys/admin/key-rows.js";
import type { AdminOp } from "../../keys/admin/operation.js";
import { rotateKey } from "../../keys/admin/rotate-key.js";
import { setMinDecryptVersion } from "../../keys/admin/set-min-decrypt-version.js";
import type { KeyInfo } from "../../keys/key-info.js";
import type { AuditObject, EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { dataOperation, validateKeyName } from "../../keys/names.js";
import { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { decisionToAuditEvent } from "./decision.js";
import { KeyChangeListeners } from "./key-changes.js";
import { type AuditMac, appendAuditTx, listAuditPg, verifyAuditPg } from "./pg-audit.js";
import { PgBatchCommitter, type PgJob } from "./pg-batch.js";
import { deriveTx } from "./pg-derive.js";
import { deriveEvent } from "../../keys/field-key.js";
import { runOnPg } from "./pg-key-statements.js";
import { approveTx, proposeTx } from "./pg-policies.js";
import { vacuumKeyVersions, vacuumSecretVersions } from "./pg-shred.js";
import { inTx, withClient } from "./pg-tx.js";
import { UNWRAP_OPERATIONS, checkFailedUse } from "../../keys/unwrap.js";
import { dataEvent, failure } from "../../keys/data-event.js";
import { recordJob, unwrapJob } from "./pg-unwrap.js";
import { rewrapTarget, withTag } from "../../keys/bound-wrap.js";
import type { EntryTarget } from "../../keys/key-block.js";
import { wrapPg } from "./pg-wrap.js";
import { type PolicyRow, auditLine, checkProposal, newPolicyId, toPolicyRecord } from "./policies.js";
import { auditKeyOf } from "./root.js";
import { type Actor, annotate, principalOf } from "./actor.js";
import type { DecisionEvent, KeyStore, NewSecretVersion, OpenWithKey, PolicyRecord, Principal, SecretEvent, SecretRows } from "./types.js";
import { changeSecretStateTx, markSecretReadTx, putSecretVersionTx, secretRowsPg } from "./pg-secrets.js";
import type { SecretStateChange } from "../../secrets/rows.js";

export interface PostgresStoreTuning {
  readonly maxWrapsPerVersion: number;
  readonly now: () => number;
  readonly maxBatch?: number;
  /** Where best-effort failures are reported (VACUUM after a destroy). */
  readonly warn: (message: string) => void;
}

export class PostgresStore implements KeyStore {
  readonly kind = "postgres" as const;
  readonly keyringId = "local";
  readonly #pool: pg.Pool;
  #root: RootKey | null;
  /** The key-state MAC key (src/keys/key-state.ts), derived from the root; wiped at close. */
  readonly #seal: StateSeal;
  readonly #mac: AuditMac;
  readonly #verifyKey: ReturnType<typeof auditKeyOf>["verifyKey"];
  readonly #t: PostgresStoreTuning;
  readonly #batch: GroupCommit<PgJob, unknown>;
  readonly #committer: PgBatchCommitter;
  readonly #changes = new KeyChangeListeners();

  /** Use openPostgresStore (postgres.ts). */
  constructor(pool: pg.Pool, root: RootKey, tuning: PostgresStoreTuning) {
    this.#pool = pool;
    this.#root = root;
    this.#seal = StateSeal.fromRoot(root);
    ({ mac: this.#mac, verifyKey: this.#verifyKey } = auditKeyOf(root));
    this.#t = tuning;
    this.#committer = new PgBatchCommitter(pool, this.#mac, tuning.now);
    this.#batch = new GroupCommit((jobs) => this.#committer.commit(jobs), tuning.maxBatch === undefined ? {} : { maxBatch: tuning.maxBatch });
  }

  // ── key administration ──────────────────────────────────────────────────────────────────
  async createKey(who: Actor, name: string, options: CreateKeyOptions = {}): Promise<KeyInfo> {
    return this.#admin(who, createKey(name, options));
  }
  async rotateKey(who: Actor, name: string): Promise<KeyInfo> {
    return this.#admin(who, rotateKey(name));
  }
  async listKeys(): Promise<KeyInfo[]> {
    this.#live();
    return withClient(this.#pool, (c) => runOnPg(c, listKeyInfos(this.#seal, this.#t.now())));
  }
  async showKey(name: string): Promise<KeyInfo> {
    validateKeyName(name);
    this.#live();
    return withClient(this.#pool, (c) => runOnPg(c, keyInfo(this.#seal, name, this.#t.now())));
  }
  async disableVersion(who: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(who, disableVersion(name, version));
  }
  async enableVersion(who: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(who, enableVersion(name, version));
  }
  async destroyVersion(who: Actor, name: string, version: number): Promise<KeyInfo> {
    const info = await this.#admin(who, destroyVersion(name, version));
    await vacuumKeyVersions(this.#pool, this.#t.warn); // after COMMIT: VACUUM cannot run in a transaction
    return info;
  }
  async setMinDecryptVersion(who: Actor, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(who, setMinDecryptVersion(name, version));
  }

  // ── Keyring operations ──────────────────────────────────────────────────────────────────
  async wrap(who: Actor, keyName: string, dataKey: Uint8Array, context: EncryptionContext, objectId?: Uint8Array): Promise<WrappedKey> {
    checkPrincipal(principalOf(who));
    return wrapPg(this.#pool, this.#live(), this.#seal, this.keyringId, this.#t.maxWrapsPerVersion, keyName, dataKey, context, objectId);
  }

  // no await before #batch.submit: a call inside together() must join its group synchronously
  async unwrap(who: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, open?: OpenWithKey): Promise<Buffer> {
    const principal = principalOf(who);
    checkPrincipal(principal);
    const operation = dataOperation(object, UNWRAP_OPERATIONS);
    const job = unwrapJob(
      this.#live(),
      this.#seal,
      this.keyringId,
      annotate(who, dataEvent(principal, operation, entry, context, object)),
      entry,
      context,
      open,
    );
    return this.#batch.submit(job) as Promise<Buffer>;
  }

  async recordFailedUse(who: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, errorCode: string): Promise<void> {
    const principal = principalOf(who);
    checkPrincipal(principal);
    const operation = checkFailedUse(object, errorCode);
    this.#live();
    await this.#batch.submit(recordJob(annotate(who, { ...dataEvent(principal, operation, entry, context, object), outcome: "error", errorCode })));
  }

  async rewrap(who: Actor, entry: WrappedKey, context: EncryptionContext, object: AuditObject, upgrade?: EntryTarget): Promise<WrappedKey> {
    const principal = principalOf(who);
    checkPrincipal(principal);
    const event = annotate(who, dataEvent(principal, "rewrap", entry, context, object, upgrade));
    let target: EntryTarget | undefined;
    try {
      target = rewrapTarget(entry, upgrade);
    } catch (e) {
      await this.#recordBestEffort(failure(event, e));
      throw e;
    }
    // the source is opened and its record committed in the batch; the new entry is made after
    const dataKey = (await this.#batch.submit(unwrapJob(this.#live(), this.#seal, this.keyringId, event, entry, context))) as Buffer;
    try {
      return withTag(await this.wrap(who, entry.keyName, dataKey, context, target?.objectId), dataKey, target);
    } catch (e) {
      await this.#recordBestEffort(failure(event, e));
      throw e;
    } finally {
      dataKey.fill(0);
    }
  }

  /** Field/derived keys (pg-derive.ts); audited per call, fail closed. */
  async deriveKey(
    who: Actor,
    keyName: string,
    version: number | "primary",
    purpose: string,
    object: AuditObject,
    length = 32,
  ): Promise<{ key: Buffer; version: number }> {
    const principal = principalOf(who);
    checkPrincipal(principal);
    const request = { principal, keyName, version, purpose, object, length };
    const event = annotate(who, deriveEvent(request));
    const root = this.#live();
    const state: { derived?: Buffer; version: number } = { version: 0 };
    try {
      await deriveTx(this.#pool, root, this.#seal, this.#mac, this.#t.now, request, event, state);
    } catch (e) {
      state.derived?.fill(0);
      if (state.derived !== undefined) throw asAuditFailure(e);
      await this.#recordBestEffort(failure({ ...event, keyVersion: state.version || event.keyVersion || null }, e));
      throw e;
    }
    return { key: state.derived as Buffer, version: state.version };
  }

  // ── audit ───────────────────────────────────────────────────────────────────────────────
  async appendAudit(event: DecisionEvent): Promise<AuditRecord> {
    const e = decisionToAuditEvent(event);
    this.#live();
    return this.#batch.submit(recordJob(e)) as Promise<AuditRecord>;
  }
  async appendEvent(event: AuditEvent): Promise<AuditRecord> {
    this.#live();
    return this.#batch.submit(recordJob(event)) as Promise<AuditRecord>;
  }
  together<T>(submit: () => T): T {
    return this.#batch.together(submit);
  }
  commitStats(): CommitStats {
    return { ...this.#batch.stats, oneRoundTrip: this.#committer.oneRoundTrip };
  }
  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    this.#live();
    return withClient(this.#pool, (c) =>
      listAuditPg(c, {
        ...(options.sinceMs === undefined ? {} : { sinceMs: options.sinceMs }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      }),
    );
  }
  async verifyAudit(): Promise<AuditVerifyResult> {
    this.#live();
    return withClient(this.#pool, (c) => verifyAuditPg(c, this.#verifyKey));
  }
  async auditAnchor(): Promise<{ anchor: AnchorEnvelope; publicKey: string }> {
    this.#live();
    return auditAnchorPg(this.#pool, this.#mac, this.#t.now());
  }
  async verifyAuditAnchored(anchors: readonly unknown[]): Promise<AnchoredVerifyResult> {
    this.#live();
    return verifyAuditAnchoredPg(this.#pool, this.#mac, anchors);
  }
  /** Pages through the table by seq (1,000 records per query), so memory stays bounded. */
  async *exportAudit(options: ExportAuditOptions = {}): AsyncIterable<string> {
    this.#live();
    const since = options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString();
    for (let after = options.afterSeq ?? 0; ;) {
      const page = await withClient(this.#pool, (c) =>
        c.query<AuditRow>("SELECT * FROM audit WHERE time >= $1 AND seq > $2 ORDER BY seq LIMIT 1000", [since, after]),
      );
      if (page.rows.length === 0) return;
      for (const row of page.rows) yield auditLine(toRecord(row));
      after = Number(page.rows[page.rows.length - 1].seq);
    }
  }

  // ── policies ────────────────────────────────────────────────────────────────────────────
  async proposePolicy(yaml: string, who: Actor): Promise<string> {
    const proposer = principalOf(who);
    checkProposal(yaml, proposer);
    this.#live();
    const id = newPolicyId();
    try {
      await inTx(this.#pool, (c) => proposeTx(c, this.#mac, id, yaml, who, this.#t.now()));
    } catch (e) {
      throw isPipesealError(e) ? e : asAuditFailure(e);
    }
    return id;
  }
  async approvePolicy(id: string, who: Actor): Promise<PolicyRecord> {
    const approver = principalOf(who);
    checkPrincipal(approver);
    this.#live();
    try {
      return await inTx(this.#pool, (c) => approveTx(c, this.#mac, id, who, this.#t.now()));
    } catch (e) {
      if (!(isPipesealError(e) && auditOutcomeOf(e) === "denied")) throw isPipesealError(e) ? e : asAuditFailure(e);
      await this.#recordBestEffort(
        annotate(who, {
          operation: "policy.approve",
          principal: approver,
          outcome: "denied",
          objectPath: typeof id === "string" ? id.slice(0, 64) : null,
          errorCode: e.code,
        }),
      );
      throw e;
    }
  }
  async activePolicy(): Promise<PolicyRecord | null> {
    this.#live();
    const row = await withClient(this.#pool, async (c) => (await c.query<PolicyRow>("SELECT * FROM policies WHERE state = 'active'")).rows[0]);
    return row === undefined ? null : toPolicyRecord(row);
  }
  async listPolicies(): Promise<PolicyRecord[]> {
    this.#live();
    const rows = await withClient(this.#pool, async (c) => (await c.query<PolicyRow>("SELECT * FROM policies ORDER BY proposed_at DESC, id")).rows);
    return rows.map(toPolicyRecord);
  }

  // ── secrets ─────────────────────────────────────────────────────────────────────────────
  async putSecretVersion(who: Actor, v: NewSecretVersion, plain: SecretEvent): Promise<boolean> {
    const principal = principalOf(who);
    const event = annotate(who, plain);
    checkPrincipal(principal);
    this.#live();
    try {
      return await inTx(this.#pool, (c) => putSecretVersionTx(c, this.#mac, principal, v, event, this.#t.now()));
    } catch (e) {
      // a unique violation: another replica took this version (the caller retries)
      if ((e as { code?: unknown }).code === "23505") return false;
      throw isPipesealError(e) ? e : asAuditFailure(e);
    }
  }
  async secretRows(name: string): Promise<SecretRows | undefined> {
    this.#live();
    return (await withClient(this.#pool, (c) => secretRowsPg(c, name)))[0];
  }
  async listSecretRows(): Promise<SecretRows[]> {
    this.#live();
    return withClient(this.#pool, (c) => secretRowsPg(c));
  }
  async changeSecretState(who: Actor, name: string, version: number | "all", change: SecretStateChange, plain: SecretEvent): Promise<void> {
    const principal = principalOf(who);
    const event = annotate(who, plain);
    checkPrincipal(principal);
    this.#live();
    try {
      await inTx(this.#pool, (c) => changeSecretStateTx(c, this.#mac, principal, name, version, change, event, this.#t.now()));
    } catch (e) {
      if (!isRefusal(e)) throw asAuditFailure(e);
      await this.#recordBestEffort({ ...event, principal, outcome: "denied", errorCode: (e as { code: string }).code });
      throw e;
    }
    if (change === "destroy") await vacuumSecretVersions(this.#pool, this.#t.warn); // after COMMIT, as for KEKs
  }
  async markSecretRead(who: Actor, name: string, version: number, purpose: string, plain: SecretEvent): Promise<void> {
    const principal = principalOf(who);
    const event = annotate(who, plain);
    checkPrincipal(principal);
    this.#live();
    try {
      await inTx(this.#pool, (c) => markSecretReadTx(c, this.#mac, principal, name, version, purpose, event, this.#t.now()));
    } catch (e) {
      throw isPipesealError(e) ? e : asAuditFailure(e);
    }
  }

  onKeyChange(listener: (keyName: string) => void): void {
    this.#changes.add(listener);
  }

  async close(): Promise<void> {
    const root = this.#root;
    if (root === null) return;
    await this.#batch.idle(); // queued requests commit (or fail) before the pool ends
    this.#committer.forget();
    this.#root = null;
    try {
      await this.#pool.end();
    } finally {
      this.#seal.close();
      root.close();
    }
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────
  #live(): RootKey {
    if (this.#root === null) throw new UsageError("INVALID_ARGUMENT", "the store is closed");
    return this.#root;
  }

  /** A change and its audit record in one transaction; a refusal is recorded as denied/error (best effort). */
  async #admin(who: Actor, op: AdminOp<KeyInfo>): Promise<KeyInfo> {
    const principal = principalOf(who);
    checkPrincipal(principal);
    const root = this.#live();
    const { operation, target } = op;
    try {
      return await inTx(this.#pool, async (c: PoolClient) => {
        const now = this.#t.now();
        const { result, keyVersion } = await runOnPg(c, op.steps({ root, seal: this.#seal, now }));
        await appendAuditTx(
          c,
          this.#mac,
          annotate(who, { operation, principal, outcome: "ok", keyName: target.keyName, keyVersion: keyVersion ?? target.keyVersion }),
          now,
        );
        return result;
      }).then((result) => {
        this.#changes.emit(result.name); // committed: this process's caches of the key drop now
        return result;
      });
    } catch (e) {
      if (!isRefusal(e)) throw asAuditFailure(e);
      await this.#recordBestEffort(failure(annotate(who, { operation, principal, outcome: "ok", ...target }), e));
      throw e;
    } finally {
      this.#committer.forget(); // no sealed KEK of a destroyed version stays cached
    }
  }

  /** Through the group committer; never throws (the caller is already failing). */
  async #recordBestEffort(event: AuditEvent): Promise<void> {
    await this.#batch.submit(recordJob(event)).catch(() => undefined);
  }
}

function checkPrincipal(p: unknown): asserts p is Principal {
  if (typeof p !== "string" || p === "" || p.length > 1024) throw new UsageError("INVALID_ARGUMENT", "a principal is required");
}
