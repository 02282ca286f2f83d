/**
 * The PostgreSQL store, shared by any number of `pipeseal serve` replicas.
 *
 * Concurrency: a change locks its key row FOR UPDATE (rotation reads MAX(version) under that
 * lock, and (key_name, version) is the primary key), then appends its audit record, which
 * locks the single-row audit head; locks are always taken in that order, so replicas never
 * deadlock, versions stay contiguous, and the chain stays linear. Every change and its
 * record commit in one transaction. An unwrap's record commits before the key is returned;
 * if the commit fails the key is wiped and AUDIT_WRITE_FAILED is thrown (fail closed).
 */
import { hkdfSync } from "node:crypto";
import pg from "pg";
import type { PoolClient, PoolConfig } from "pg";
import { type ListAuditOptions, toRecord } from "../../audit/list.js";
import type { AuditEvent, AuditRecord, AuditVerifyResult } from "../../audit/types.js";
import { AuditError, KeyError, KeystoreError, UsageError, isPipesealError } from "../../errors.js";
import { encodeContext, normalizeContext } from "../../keys/context.js";
import type { CreateKeyOptions } from "../../keys/create-key.js";
import { generateKek } from "../../keys/kek.js";
import type { KeyInfo } from "../../keys/key-info.js";
import type { AuditObject, EncryptionContext, WrappedKey } from "../../keys/keyring.js";
import { MasterKey, type ScryptParams, createMasterKeyFile, deriveFromPassphrase, loadMasterKeyFile, newScryptParams } from "../../keys/master-key.js";
import { auditableName, auditableVersion, validateKeyName, validateVersion } from "../../keys/names.js";
import type { RootKey } from "../../keys/root-key.js";
import { DATA_KEY_BYTES, MAX_WRAPS_PER_VERSION, openDataKey, sealDataKey, wrapAad } from "../../keys/wrap-format.js";
import { decisionToAuditEvent } from "./decision.js";
import { type AuditMac, appendAuditTx, listAuditPg, verifyAuditPg } from "./pg-audit.js";
import { checkUnwrappable, keyInfoPg, listKeyInfosPg, requireKeyPg, requireVersionPg } from "./pg-keys.js";
import { LOCK, migrate } from "./pg-schema.js";
import { type PolicyRow, auditLine, checkApproval, checkProposal, newPolicyId, toPolicyRecord } from "./policies.js";
import { type RootSource, auditKeyOf } from "./root.js";
import type { DecisionEvent, KeyStore, PolicyRecord, Principal } from "./types.js";

export interface PostgresStoreOptions {
  /** node-postgres pool settings (host, port, database, user, TLS, max). */
  readonly pool: PoolConfig;
  readonly root: RootSource;
  /** Initialise an empty database (records the root's check value and the `init` audit record). */
  readonly create?: boolean;
  /** Principal recorded for `init`. */
  readonly servicePrincipal?: string;
  readonly maxWrapsPerVersion?: number;
  readonly now?: () => number;
}

const DATA_OPERATION = /^[a-z][a-z0-9-]{0,31}$/;
const INT8 = 20;
const NUMERIC_INT8 = (v: string) => Number(v); // every BIGINT here is < 2^53

/**
 * Opens (and with `create`, initialises) the store.
 * @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | KEYSTORE_CORRUPT | MASTER_KEY_WRONG | MASTER_KEY_UNAVAILABLE | MASTER_KEY_INSECURE),
 *   UsageError(INVALID_ARGUMENT); connection errors from pg.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const limit = options.maxWrapsPerVersion ?? MAX_WRAPS_PER_VERSION;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_WRAPS_PER_VERSION) throw new UsageError("INVALID_ARGUMENT", "maxWrapsPerVersion must be an integer in 1..2^32");
  const pool = new pg.Pool({
    ...options.pool,
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8 ? NUMERIC_INT8 : pg.types.getTypeParser(oid, format as "text"))) as never },
  });
  pool.on("error", () => undefined); // an idle client's error must not crash the process; the next query reports it
  const now = options.now ?? Date.now;
  let root: RootKey | undefined;
  try {
    await migrate(pool);
    root = await initOrCheck(pool, options, now);
    return new PostgresStore(pool, root, limit, now);
  } catch (e) {
    root?.close();
    await pool.end().catch(() => undefined);
    throw e;
  }
}

async function initOrCheck(pool: pg.Pool, options: PostgresStoreOptions, now: () => number): Promise<RootKey> {
  return inTx(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK.init]);
    const meta = new Map((await c.query<{ key: string; value: string }>("SELECT key, value FROM meta")).rows.map((r) => [r.key, r.value]));
    const src = options.root;
    const check = meta.get("master_check");
    if (check === undefined) {
      if (options.create !== true) throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", "the key-service database is not initialised; open it with create: true");
      let root: RootKey;
      let source: string;
      if ("rootKey" in src) [root, source] = [src.rootKey, "external"];
      else if ("passphrase" in src) {
        const params = newScryptParams();
        await c.query("INSERT INTO meta (key, value) VALUES ('master_scrypt', $1)", [JSON.stringify(params)]);
        [root, source] = [MasterKey.fromRoot(await deriveFromPassphrase(src.passphrase, params)), "passphrase"];
      } else {
        const bytes = await loadMasterKeyFile(src.home).catch(async (e) => {
          if (isPipesealError(e) && e.code === "MASTER_KEY_UNAVAILABLE") return createMasterKeyFile(src.home);
          throw e;
        });
        [root, source] = [MasterKey.fromRoot(bytes), "file"];
      }
      await c.query("INSERT INTO meta (key, value) VALUES ('master_source', $1), ('master_check', $2)", [source, root.checkValue()]);
      await appendAuditTx(c, auditKeyOf(root).mac, { operation: "init", principal: options.servicePrincipal ?? "pipeseal-serve", outcome: "ok" }, now());
      return root;
    }
    let root: RootKey;
    if ("rootKey" in src) root = src.rootKey;
    else if ("passphrase" in src) {
      let params: ScryptParams;
      try {
        params = JSON.parse(meta.get("master_scrypt") ?? "null") as ScryptParams;
      } catch {
        throw new KeystoreError("KEYSTORE_CORRUPT", "the stored scrypt parameters are unreadable");
      }
      if (params === null || typeof params !== "object") throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "this database is not protected by a passphrase");
      root = MasterKey.fromRoot(await deriveFromPassphrase(src.passphrase, params));
    } else root = MasterKey.fromRoot(await loadMasterKeyFile(src.home));
    if (!root.matches(check)) {
      root.close();
      throw new KeystoreError("MASTER_KEY_WRONG");
    }
    return root;
  });
}

async function inTx<T>(pool: pg.Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const result = await fn(c);
    await c.query("COMMIT");
    return result;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

export class PostgresStore implements KeyStore {
  readonly kind = "postgres" as const;
  readonly keyringId = "local";
  readonly #pool: pg.Pool;
  #root: RootKey | null;
  readonly #mac: AuditMac;
  readonly #verifyKey: ReturnType<typeof auditKeyOf>["verifyKey"];
  readonly #limit: number;
  readonly #now: () => number;

  /** Use {@link openPostgresStore}. */
  constructor(pool: pg.Pool, root: RootKey, limit: number, now: () => number) {
    this.#pool = pool;
    this.#root = root;
    ({ mac: this.#mac, verifyKey: this.#verifyKey } = auditKeyOf(root));
    this.#limit = limit;
    this.#now = now;
  }

  // ── key administration ──────────────────────────────────────────────────────────────────
  async createKey(principal: Principal, name: string, options: CreateKeyOptions = {}): Promise<KeyInfo> {
    const period = options?.rotateEverySeconds;
    return this.#admin(principal, "key.create", name, 1, async (c, now) => {
      validateKeyName(name);
      if (period !== undefined && (!Number.isSafeInteger(period) || period < 1)) throw new UsageError("INVALID_ARGUMENT", "rotateEverySeconds must be a positive integer");
      const inserted = await c.query("INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES ($1, 1, 1, $2, $3) ON CONFLICT (name) DO NOTHING", [name, period ?? null, now]);
      if (inserted.rowCount === 0) throw new KeyError("KEY_EXISTS", `a key named "${name}" already exists`);
      await this.#insertVersion(c, name, 1, now);
      return { result: await keyInfoPg(c, name, now) };
    });
  }

  async rotateKey(principal: Principal, name: string): Promise<KeyInfo> {
    return this.#admin(principal, "key.rotate", name, null, async (c, now) => {
      validateKeyName(name);
      await requireKeyPg(c, name, "FOR UPDATE"); // serializes rotations of this key across replicas
      const { max } = (await c.query<{ max: number }>("SELECT MAX(version) AS max FROM key_versions WHERE key_name = $1", [name])).rows[0] as { max: number };
      const version = max + 1;
      await this.#insertVersion(c, name, version, now);
      await c.query("UPDATE keys SET primary_version = $1 WHERE name = $2", [version, name]);
      return { result: await keyInfoPg(c, name, now), keyVersion: version };
    });
  }

  async listKeys(): Promise<KeyInfo[]> {
    this.#live();
    return this.#read((c) => listKeyInfosPg(c, this.#now()));
  }

  async showKey(name: string): Promise<KeyInfo> {
    validateKeyName(name);
    this.#live();
    return this.#read((c) => keyInfoPg(c, name, this.#now()));
  }

  async disableVersion(principal: Principal, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(principal, "key.disable", name, version, async (c, now) => {
      const row = await this.#nonPrimary(c, name, version, "disabled");
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed`);
      await c.query("UPDATE key_versions SET state = 'disabled' WHERE key_name = $1 AND version = $2", [name, version]);
      return { result: await keyInfoPg(c, name, now) };
    });
  }

  async enableVersion(principal: Principal, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(principal, "key.enable", name, version, async (c, now) => {
      validateKeyName(name);
      validateVersion(version);
      await requireKeyPg(c, name, "FOR UPDATE");
      const row = await requireVersionPg(c, name, version);
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed and cannot be enabled`);
      await c.query("UPDATE key_versions SET state = 'enabled' WHERE key_name = $1 AND version = $2", [name, version]);
      return { result: await keyInfoPg(c, name, now) };
    });
  }

  /** The KEK is set to NULL; PostgreSQL keeps old row versions until VACUUM (see the report on shredding). */
  async destroyVersion(principal: Principal, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(principal, "key.destroy", name, version, async (c, now) => {
      await this.#nonPrimary(c, name, version, "destroyed");
      await c.query("UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, $1) WHERE key_name = $2 AND version = $3", [now, name, version]);
      return { result: await keyInfoPg(c, name, now) };
    });
  }

  async setMinDecryptVersion(principal: Principal, name: string, version: number): Promise<KeyInfo> {
    return this.#admin(principal, "key.set-min-version", name, version, async (c, now) => {
      validateKeyName(name);
      validateVersion(version);
      const key = await requireKeyPg(c, name, "FOR UPDATE");
      if (version > key.primary_version) throw new UsageError("INVALID_ARGUMENT", `the minimum decryption version must be at most the primary version ${key.primary_version}`);
      await c.query("UPDATE keys SET min_decrypt_version = $1 WHERE name = $2", [version, name]);
      return { result: await keyInfoPg(c, name, now) };
    });
  }

  // ── Keyring operations ──────────────────────────────────────────────────────────────────
  async wrap(principal: Principal, keyName: string, dataKey: Uint8Array, context: EncryptionContext): Promise<WrappedKey> {
    checkPrincipal(principal);
    validateKeyName(keyName);
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) throw new UsageError("INVALID_ARGUMENT", `a data key must be a Uint8Array of ${DATA_KEY_BYTES} bytes`);
    encodeContext(context);
    const root = this.#live();
    const { version, kek: blob } = await this.#reserveWrap(keyName);
    const kek = root.openKek(keyName, version, blob);
    try {
      return { keyring: this.keyringId, keyName, keyVersion: version, wrapped: sealDataKey(kek, wrapAad(this.keyringId, keyName, version, context), dataKey) };
    } finally {
      kek.fill(0);
    }
  }

  async unwrap(principal: Principal, entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<Buffer> {
    checkPrincipal(principal);
    const operation = object?.operation;
    if (typeof operation !== "string" || !DATA_OPERATION.test(operation) || operation === "init" || operation === "rewrap") {
      throw new UsageError("INVALID_ARGUMENT", "object.operation must be a data-access operation such as \"unwrap\", \"decrypt\" or \"range-read\"");
    }
    return this.#unwrapAudited(principal, operation, entry, context, object, async (dataKey) => dataKey);
  }

  async rewrap(principal: Principal, entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<WrappedKey> {
    checkPrincipal(principal);
    // the new entry is made after the record of the opened source committed; the data key never leaves
    const dataKey = await this.#unwrapAudited(principal, "rewrap", entry, context, object, async (dk) => dk);
    try {
      return await this.wrap(principal, entry.keyName, dataKey, context);
    } catch (e) {
      await this.#recordBestEffort(failure(this.#event(principal, "rewrap", entry, context, object), e));
      throw e;
    } finally {
      dataKey.fill(0);
    }
  }

  /** Field/derived keys, as LocalKeystore.deriveFieldKey (HKDF-SHA-256 from the version's KEK); audited per call, fail closed. */
  async deriveKey(principal: Principal, keyName: string, version: number | "primary", purpose: string, object: AuditObject, length = 32): Promise<{ key: Buffer; version: number }> {
    checkPrincipal(principal);
    validateKeyName(keyName);
    const operation = object?.operation;
    if (typeof operation !== "string" || !DATA_OPERATION.test(operation) || operation === "init" || operation === "rewrap") throw new UsageError("INVALID_ARGUMENT", "object.operation must be a data-access operation such as \"field-reveal\"");
    if (typeof purpose !== "string" || !/^[a-z0-9][a-z0-9.:-]{0,63}$/.test(purpose)) throw new UsageError("INVALID_ARGUMENT", "invalid field-key purpose");
    if (!Number.isInteger(length) || length < 32 || length > 64) throw new UsageError("INVALID_ARGUMENT", "a field key is 32 to 64 bytes");
    if (version !== "primary") validateVersion(version);
    const root = this.#live();
    const event: AuditEvent = { operation, principal, outcome: "ok", keyName, keyVersion: version === "primary" ? null : version, objectPath: typeof object.path === "string" ? object.path : null, context: { purpose } };
    let derived: Buffer | undefined;
    let v = 0;
    try {
      await inTx(this.#pool, async (c) => {
        const key = await requireKeyPg(c, keyName);
        v = version === "primary" ? key.primary_version : version;
        const row = await requireVersionPg(c, keyName, v);
        const kek = root.openKek(keyName, v, checkUnwrappable(keyName, key, row));
        derived = Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), Buffer.concat([Buffer.from("pipeseal-field-v1"), Buffer.from(purpose)]), length));
        kek.fill(0);
        await appendAuditTx(c, this.#mac, { ...event, keyVersion: v }, this.#now());
      });
    } catch (e) {
      derived?.fill(0);
      if (derived !== undefined) throw asAuditFailure(e);
      await this.#recordBestEffort(failure({ ...event, keyVersion: v || event.keyVersion || null }, e));
      throw e;
    }
    return { key: derived as unknown as Buffer, version: v };
  }

  // ── audit ───────────────────────────────────────────────────────────────────────────────
  async appendAudit(event: DecisionEvent): Promise<AuditRecord> {
    const e = decisionToAuditEvent(event);
    this.#live();
    try {
      return await inTx(this.#pool, (c) => appendAuditTx(c, this.#mac, e, this.#now()));
    } catch (err) {
      throw asAuditFailure(err);
    }
  }

  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    this.#live();
    return this.#read((c) => listAuditPg(c, { ...(options.sinceMs === undefined ? {} : { sinceMs: options.sinceMs }), ...(options.limit === undefined ? {} : { limit: options.limit }) }));
  }

  async verifyAudit(): Promise<AuditVerifyResult> {
    this.#live();
    const c = await this.#pool.connect();
    try {
      return await verifyAuditPg(c, this.#verifyKey);
    } finally {
      c.release();
    }
  }

  /** Pages through the table by seq (1,000 records per query), so memory stays bounded. */
  async *exportAudit(options: { sinceMs?: number } = {}): AsyncIterable<string> {
    this.#live();
    let after = 0;
    for (;;) {
      const page = await this.#read((c) =>
        c.query("SELECT * FROM audit WHERE time >= $1 AND seq > $2 ORDER BY seq LIMIT 1000", [options.sinceMs === undefined ? "" : new Date(options.sinceMs).toISOString(), after]),
      );
      if (page.rows.length === 0) return;
      for (const row of page.rows) yield auditLine(toRecord(row));
      after = Number(page.rows[page.rows.length - 1].seq);
    }
  }

  // ── policies ────────────────────────────────────────────────────────────────────────────
  async proposePolicy(yaml: string, proposer: Principal): Promise<string> {
    checkProposal(yaml, proposer);
    this.#live();
    const id = newPolicyId();
    try {
      await inTx(this.#pool, async (c) => {
        const now = this.#now();
        await c.query("INSERT INTO policies (id, yaml, proposer, proposed_at, state) VALUES ($1, $2, $3, $4, 'proposed')", [id, yaml, proposer, now]);
        await appendAuditTx(c, this.#mac, { operation: "policy.propose", principal: proposer, outcome: "ok", objectPath: id }, now);
      });
    } catch (e) {
      throw asAuditFailure(e);
    }
    return id;
  }

  async approvePolicy(id: string, approver: Principal): Promise<PolicyRecord> {
    checkPrincipal(approver);
    this.#live();
    const objectPath = typeof id === "string" ? id.slice(0, 64) : null;
    try {
      return await inTx(this.#pool, async (c) => {
        const now = this.#now();
        const row = typeof id === "string" ? (await c.query<PolicyRow>("SELECT * FROM policies WHERE id = $1 FOR UPDATE", [id])).rows[0] : undefined;
        checkApproval(id, row === undefined ? undefined : toPolicyRecord(row), approver);
        await c.query("UPDATE policies SET state = 'superseded' WHERE state = 'active'");
        const updated = (await c.query<PolicyRow>("UPDATE policies SET state = 'active', approver = $1, approved_at = $2 WHERE id = $3 RETURNING *", [approver, now, id])).rows[0] as PolicyRow;
        await appendAuditTx(c, this.#mac, { operation: "policy.approve", principal: approver, outcome: "ok", objectPath }, now);
        return toPolicyRecord(updated);
      });
    } catch (e) {
      if (isPipesealError(e) && e.name === "UsageError") {
        await this.#recordBestEffort({ operation: "policy.approve", principal: approver, outcome: "denied", objectPath, errorCode: e.code });
        throw e;
      }
      throw asAuditFailure(e);
    }
  }

  async activePolicy(): Promise<PolicyRecord | null> {
    this.#live();
    const row = await this.#read(async (c) => (await c.query<PolicyRow>("SELECT * FROM policies WHERE state = 'active'")).rows[0]);
    return row === undefined ? null : toPolicyRecord(row);
  }

  async listPolicies(): Promise<PolicyRecord[]> {
    this.#live();
    const rows = await this.#read(async (c) => (await c.query<PolicyRow>("SELECT * FROM policies ORDER BY proposed_at DESC, id")).rows);
    return rows.map(toPolicyRecord);
  }

  async close(): Promise<void> {
    const root = this.#root;
    if (root === null) return;
    this.#root = null;
    try {
      await this.#pool.end();
    } finally {
      root.close();
    }
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────
  #live(): RootKey {
    if (this.#root === null) throw new UsageError("INVALID_ARGUMENT", "the store is closed");
    return this.#root;
  }

  async #read<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      return await fn(c);
    } finally {
      c.release();
    }
  }

  /** A change and its audit record in one transaction; a refusal is recorded as denied/error (best effort). */
  async #admin<T>(principal: Principal, operation: string, name: unknown, version: unknown, change: (c: PoolClient, now: number) => Promise<{ result: T; keyVersion?: number }>): Promise<T> {
    checkPrincipal(principal);
    this.#live();
    const target = { keyName: auditableName(name), keyVersion: auditableVersion(version) };
    try {
      return await inTx(this.#pool, async (c) => {
        const now = this.#now();
        const { result, keyVersion } = await change(c, now);
        await appendAuditTx(c, this.#mac, { operation, principal, outcome: "ok", keyName: target.keyName, keyVersion: keyVersion ?? target.keyVersion }, now);
        return result;
      });
    } catch (e) {
      if (isPipesealError(e) && e.code !== "AUDIT_WRITE_FAILED" && e.code !== "AUDIT_CHAIN_BROKEN") {
        await this.#recordBestEffort(failure({ operation, principal, outcome: "ok", ...target }, e));
        throw e;
      }
      throw asAuditFailure(e);
    }
  }

  async #insertVersion(c: PoolClient, name: string, version: number, now: number): Promise<void> {
    const kek = generateKek();
    try {
      const blob = this.#live().sealKek(name, version, kek);
      await c.query("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES ($1, $2, 'enabled', $3, $4, 0)", [name, version, blob, now]);
    } finally {
      kek.fill(0);
    }
  }

  async #nonPrimary(c: PoolClient, name: string, version: number, verb: string) {
    validateKeyName(name);
    validateVersion(version);
    const key = await requireKeyPg(c, name, "FOR UPDATE");
    const row = await requireVersionPg(c, name, version);
    if (key.primary_version === version) throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is the primary version and cannot be ${verb}; rotate first`);
    return row;
  }

  /** Counts one wrap against the primary (NIST SP 800-38D §8.3), committed before any encryption. */
  async #reserveWrap(keyName: string): Promise<{ version: number; kek: Buffer }> {
    return inTx(this.#pool, async (c) => {
      const key = await requireKeyPg(c, keyName, "FOR SHARE");
      const row = await requireVersionPg(c, keyName, key.primary_version);
      if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${keyName} v${row.version} is destroyed`);
      if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${keyName} v${row.version} is disabled`);
      const { rowCount } = await c.query("UPDATE key_versions SET wrap_count = wrap_count + 1 WHERE key_name = $1 AND version = $2 AND wrap_count < $3", [keyName, row.version, this.#limit]);
      if (rowCount === 0) throw new KeyError("KEY_USAGE_LIMIT", `${keyName} v${row.version} reached its limit of ${this.#limit} wraps; rotate the key`);
      return { version: row.version, kek: row.kek };
    });
  }

  /**
   * Opens an entry and commits its `ok` record (operation) in one transaction, then hands the
   * data key to `use`. Refusals are recorded best effort; a failed record wipes the key.
   */
  async #unwrapAudited<T>(principal: Principal, operation: string, entry: WrappedKey, context: EncryptionContext, object: AuditObject, use: (dk: Buffer) => Promise<T>): Promise<T> {
    const root = this.#live();
    const event = this.#event(principal, operation, entry, context, object);
    let dataKey: Buffer | undefined;
    try {
      await inTx(this.#pool, async (c) => {
        if (entry === null || typeof entry !== "object") throw new UsageError("INVALID_ARGUMENT", "a wrapped key entry is required");
        if (entry.keyring !== this.keyringId) throw new KeyError("KEYRING_MISMATCH", `the entry was wrapped by keyring "${String(entry.keyring).slice(0, 40)}", not "${this.keyringId}"`);
        const name = validateKeyName(entry.keyName);
        const version = validateVersion(entry.keyVersion);
        if (!(entry.wrapped instanceof Uint8Array)) throw new UsageError("INVALID_ARGUMENT", "entry.wrapped must be a Uint8Array");
        const aad = wrapAad(this.keyringId, name, version, context);
        const key = await requireKeyPg(c, name);
        const row = await requireVersionPg(c, name, version);
        const kek = root.openKek(name, version, checkUnwrappable(name, key, row));
        try {
          dataKey = openDataKey(kek, aad, entry.wrapped);
        } finally {
          kek.fill(0);
        }
        await appendAuditTx(c, this.#mac, event, this.#now());
      }); // COMMIT done: the record is durable before the key is used
    } catch (e) {
      if (dataKey !== undefined) {
        dataKey.fill(0);
        throw asAuditFailure(e);
      }
      await this.#recordBestEffort(failure(event, e));
      throw e;
    }
    return use(dataKey as unknown as Buffer);
  }

  #event(principal: Principal, operation: string, entry: WrappedKey, context: EncryptionContext, object: AuditObject): AuditEvent {
    let ctx: Readonly<Record<string, string>> | null = null;
    try {
      ctx = normalizeContext(context);
    } catch {
      ctx = null;
    }
    return {
      operation,
      principal,
      outcome: "ok",
      keyName: auditableName(entry?.keyName),
      keyVersion: auditableVersion(entry?.keyVersion),
      objectPath: typeof object?.path === "string" ? object.path : null,
      headerHash: typeof object?.headerHash === "string" && /^[0-9a-f]{64}$/i.test(object.headerHash) ? object.headerHash.toLowerCase() : null,
      context: ctx,
    };
  }

  async #recordBestEffort(event: AuditEvent): Promise<void> {
    try {
      await inTx(this.#pool, (c) => appendAuditTx(c, this.#mac, event, this.#now()));
    } catch {
      // best effort: the caller is already failing
    }
  }
}

function checkPrincipal(p: unknown): asserts p is Principal {
  if (typeof p !== "string" || p === "" || p.length > 1024) throw new UsageError("INVALID_ARGUMENT", "a principal is required");
}

function failure(event: AuditEvent, e: unknown): AuditEvent {
  const code = isPipesealError(e) ? e.code : "INTERNAL";
  const denied = e instanceof KeyError || e instanceof UsageError;
  return { ...event, outcome: denied ? "denied" : "error", errorCode: code };
}

/** A failure after the record was attempted: the operation did not happen (fail closed). */
function asAuditFailure(e: unknown): Error {
  if (isPipesealError(e)) return e;
  return new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: e });
}
