/**
 * The local keystore: a SQLite file `keystore.db` in the keystore home, holding named,
 * versioned KEKs (encrypted under the master key) and the audit chain.
 *
 * Admin methods are synchronous (SQLite is); the Keyring methods are async to match the
 * interface other keyrings implement over the network.
 *
 * @example
 * await initKeystore(home);
 * const ks = await openKeystore(home);
 * ks.createKey("datasets/pii", { rotateEverySeconds: 90 * 86400 });
 * const entry = await ks.wrap("datasets/pii", dataKey, { dataset: "users" });
 * const dk = await ks.unwrap(entry, { dataset: "users" }, { operation: "decrypt", path: "users.sealed" });
 * dk.fill(0);
 * ks.close();
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { listAuditRecords, type ListAuditOptions } from "../audit/list.js";
import { readAuditHead, writeAuditHead } from "../audit/head.js";
import { SqliteAuditSink } from "../audit/sqlite-sink.js";
import type { AuditEvent, AuditHead, AuditRecord, AuditSink, AuditVerifyResult } from "../audit/types.js";
import { verifyAuditChain } from "../audit/verify.js";
import { KeyError, KeystoreError, UsageError, isPipesealError } from "../errors.js";
import { type CreateKeyOptions, createKey } from "./create-key.js";
import { KEYSTORE_DB_FILE, META, type Db, getMeta, migrate, openDb, setMeta } from "./db.js";
import { type KeyInfo, keyInfo, listKeyInfos } from "./key-info.js";
import type { AuditObject, EncryptionContext, Keyring, WrappedKey } from "./keyring.js";
import {
  MASTER_KEY_FILE,
  MasterKey,
  type ScryptParams,
  createMasterKeyFile,
  deriveFromPassphrase,
  fsyncDir,
  loadMasterKeyFile,
  newScryptParams,
} from "./master-key.js";
import { auditableName, validateKeyName } from "./names.js";
import { PKCS11_META, type Pkcs11Login, type Pkcs11OpenOptions, Pkcs11RootKey, openPkcs11Root } from "./pkcs11/index.js";
import type { RootKey } from "./root-key.js";
import { recordBestEffort, recordOrFail } from "./record.js";
import { requireKey, requireVersion } from "./rows.js";
import { rotateKey } from "./rotate-key.js";
import type { StoreContext } from "./store-context.js";
import { rewrapDataKey, unwrapDataKey } from "./unwrap.js";
import { destroyVersion, disableVersion, enableVersion, setMinDecryptVersion, truncateWal } from "./version-state.js";
import { MAX_WRAPS_PER_VERSION } from "./wrap-format.js";
import { wrapDataKey } from "./wrap.js";

export interface InitKeystoreOptions {
  /** Protect the keystore with a passphrase (scrypt) instead of a master.key file. */
  readonly passphrase?: string;
  /** Principal recorded for the `init` audit record. */
  readonly principal?: string;
  /**
   * Keep the root key in an HSM instead (docs/hsm.md): AES-256 and HMAC keys are generated
   * inside the token and never leave it; meta records the module, token and key label, never the PIN.
   */
  readonly root?: { readonly pkcs11: Pkcs11Login };
}

export interface OpenKeystoreOptions {
  /** Required when the keystore was initialised with a passphrase. */
  readonly passphrase?: string;
  /** Required when the root key is in an HSM: the user PIN (and optional location overrides). */
  readonly pkcs11?: Pkcs11OpenOptions;
  /** Who is acting; recorded in every audit record. Default: PIPESEAL_PRINCIPAL or the OS user. */
  readonly principal?: string;
  /**
   * An extra sink that receives a copy of every audit event after the keystore's own chain
   * (e.g. forwarding to a SIEM). It must throw if it cannot record; the operation then fails closed.
   */
  readonly auditSink?: AuditSink;
  /** Lower the per-version wrap limit (default and maximum: 2^32, NIST SP 800-38D §8.3). */
  readonly maxWrapsPerVersion?: number;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
}

/**
 * Creates a keystore in `home` (folder created with mode 0700): a master.key file (0600) or,
 * with a passphrase, scrypt parameters in the database; then `keystore.db`, built under a
 * temporary name and renamed into place so a crash never leaves a half-made keystore.
 * @throws KeystoreError(KEYSTORE_EXISTS) if a keystore.db or master.key is already there.
 */
export async function initKeystore(home: string, options: InitKeystoreOptions = {}): Promise<void> {
  const created = await fs.mkdir(home, { recursive: true, mode: 0o700 });
  if (created !== undefined) await fs.chmod(home, 0o700);
  const dbFile = path.join(home, KEYSTORE_DB_FILE);
  if (existsSync(dbFile)) throw new KeystoreError("KEYSTORE_EXISTS", `a keystore already exists in ${home}`);
  if (existsSync(path.join(home, MASTER_KEY_FILE))) {
    throw new KeystoreError("KEYSTORE_EXISTS", `${path.join(home, MASTER_KEY_FILE)} exists without keystore.db (an interrupted init?); move it away to start over`);
  }
  const hsm = options.root?.pkcs11;
  if (hsm !== undefined && options.passphrase !== undefined) throw new UsageError("INVALID_ARGUMENT", "an HSM root and a passphrase are exclusive");
  const params = options.passphrase === undefined || hsm !== undefined ? null : newScryptParams();
  let master: RootKey;
  if (hsm !== undefined) master = Pkcs11RootKey.generate(hsm);
  else master = MasterKey.fromRoot(params === null ? await createMasterKeyFile(home) : await deriveFromPassphrase(options.passphrase as string, params));
  let done = false;
  const tmp = path.join(home, `.${KEYSTORE_DB_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const db = openDb(tmp, { create: true });
    try {
      migrate(db);
      db.transaction(() => {
        setMeta(db, META.masterSource, master instanceof Pkcs11RootKey ? "pkcs11" : params === null ? "file" : "passphrase");
        if (params !== null) setMeta(db, META.masterScrypt, JSON.stringify(params));
        if (master instanceof Pkcs11RootKey) setMeta(db, PKCS11_META, JSON.stringify(master.info));
        setMeta(db, META.masterCheck, master.checkValue());
        writeAuditHead(db, { seq: 0, mac: "" });
        new SqliteAuditSink(db, (data) => master.auditMac(data)).append({ operation: "init", principal: defaultPrincipal(options.principal), outcome: "ok" });
      }).immediate();
    } finally {
      db.close(); // checkpoints and removes the WAL
    }
    await fs.chmod(tmp, 0o600);
    const handle = await fs.open(tmp, "r");
    await handle.sync();
    await handle.close();
    await fs.link(tmp, dbFile); // no-replace rename
    await fs.unlink(tmp);
    await fsyncDir(home);
    done = true;
  } catch (e) {
    await fs.rm(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new KeystoreError("KEYSTORE_EXISTS", `a keystore already exists in ${home}`);
    throw e;
  } finally {
    // an HSM root whose keystore was not made is deleted from the token, not left orphaned
    if (!done && master instanceof Pkcs11RootKey) master.destroyInToken();
    master.close();
  }
}

/**
 * Opens the keystore in `home` and checks the master key or passphrase.
 * @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | MASTER_KEY_INSECURE | MASTER_KEY_UNAVAILABLE | MASTER_KEY_WRONG | KEYSTORE_CORRUPT)
 */
export async function openKeystore(home: string, options: OpenKeystoreOptions = {}): Promise<LocalKeystore> {
  const dbFile = path.join(home, KEYSTORE_DB_FILE);
  if (!existsSync(dbFile)) throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", `no keystore in ${home}; run \`pipeseal init\``);
  const limit = options.maxWrapsPerVersion ?? MAX_WRAPS_PER_VERSION;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_WRAPS_PER_VERSION) {
    throw new UsageError("INVALID_ARGUMENT", `maxWrapsPerVersion must be an integer in 1..2^32`);
  }
  const db = openDb(dbFile, { create: false });
  let master: RootKey | undefined;
  try {
    migrate(db);
    if (getMeta(db, META.masterSource) === "pkcs11") {
      if (options.passphrase !== undefined) throw new UsageError("INVALID_ARGUMENT", "this keystore's root key is in an HSM; do not pass a passphrase");
      master = openPkcs11Root(getMeta(db, PKCS11_META), options.pkcs11);
    } else {
      if (options.pkcs11 !== undefined) throw new UsageError("INVALID_ARGUMENT", "this keystore's root key is not in an HSM; do not pass pkcs11 options");
      master = MasterKey.fromRoot(await loadRoot(db, home, options.passphrase));
    }
    const check = getMeta(db, META.masterCheck);
    if (check === null) throw new KeystoreError("KEYSTORE_CORRUPT", "the keystore has no master key check value");
    if (!master.matches(check)) throw new KeystoreError("MASTER_KEY_WRONG");
  } catch (e) {
    master?.close();
    db.close();
    throw e;
  }
  const principal = defaultPrincipal(options.principal);
  const now = options.now ?? Date.now;
  const sink = new SqliteAuditSink(db, (data) => master.auditMac(data), { now });
  const extra = options.auditSink;
  const ctx: StoreContext = {
    db,
    master,
    principal,
    keyringId: "local",
    maxWrapsPerVersion: limit,
    now,
    record(event: AuditEvent) {
      const stamped = { ...event, timeMs: event.timeMs ?? now() };
      sink.append(stamped);
      extra?.append(stamped);
    },
  };
  return new LocalKeystore(ctx);
}

async function loadRoot(db: Db, home: string, passphrase: string | undefined): Promise<Buffer> {
  const source = getMeta(db, META.masterSource);
  if (source === "file") {
    if (passphrase !== undefined) throw new UsageError("INVALID_ARGUMENT", "this keystore uses a master.key file; do not pass a passphrase");
    return loadMasterKeyFile(home);
  }
  if (source === "passphrase") {
    if (passphrase === undefined) throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "this keystore is protected by a passphrase; none was given");
    let params: ScryptParams;
    try {
      params = JSON.parse(getMeta(db, META.masterScrypt) ?? "null") as ScryptParams;
    } catch {
      throw new KeystoreError("KEYSTORE_CORRUPT", "the stored scrypt parameters are unreadable");
    }
    if (params === null || typeof params !== "object") throw new KeystoreError("KEYSTORE_CORRUPT", "the stored scrypt parameters are missing");
    return deriveFromPassphrase(passphrase, params);
  }
  throw new KeystoreError("KEYSTORE_CORRUPT", "the keystore does not record its master key source");
}

/**
 * The audit record of an administrative action by a capability that keeps its own tables in
 * keystore.db (the internal CA). The principal and time are filled in by the keystore.
 */
export interface CapabilityAuditEvent {
  /** A dotted capability operation such as `ca.issue`; `key.*` names are reserved for the keystore. */
  readonly operation: string;
  readonly keyName?: string | null;
  readonly keyVersion?: number | null;
  /** What the action concerns, e.g. a SPIFFE identity. */
  readonly objectPath?: string | null;
  /** Extra details (e.g. a certificate serial); never secrets. */
  readonly context?: Readonly<Record<string, string>> | null;
}

const CAPABILITY_OPERATION = /^(?!key\.)[a-z]+\.[a-z-]{1,32}$/;

function defaultPrincipal(given: string | undefined): string {
  if (given !== undefined) return given;
  const fromEnv = process.env.PIPESEAL_PRINCIPAL;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  try {
    return os.userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? "unknown"}`;
  }
}

/**
 * The local keyring. Every method throws UsageError(INVALID_ARGUMENT) after `close()`.
 * See the operation files for each method's contract.
 */
export class LocalKeystore implements Keyring {
  readonly id = "local";
  #ctx: StoreContext | null;
  readonly #closeHooks: (() => void)[] = [];
  readonly #fieldKeys = new Map<string, Buffer>();
  /** Set on a view made by {@link actingAs}: the handle that owns the database and root key. */
  readonly #owner: LocalKeystore | null;

  /** Use {@link openKeystore}. */
  constructor(ctx: StoreContext, owner: LocalKeystore | null = null) {
    this.#ctx = ctx;
    this.#owner = owner;
  }

  /**
   * A view on the same database, root key and audit chain that records `principal` in its
   * audit records: the key service (src/server/store) serves many principals through one
   * open keystore. The view borrows the owner's resources: its `close()` only wipes its own
   * cached field keys, and it throws like a closed handle once the owner is closed.
   * @internal Not exported from the package root; the key service store only.
   * @throws UsageError(INVALID_ARGUMENT) for an empty principal.
   */
  actingAs(principal: string): LocalKeystore {
    const ctx = this.#live();
    if (typeof principal !== "string" || principal === "") throw new UsageError("INVALID_ARGUMENT", "a principal is required");
    return new LocalKeystore({ ...ctx, principal }, this.#owner ?? this);
  }

  /**
   * Appends `event` as is (its own principal and operation) to the audit chain, durably:
   * the key service records its authorization decisions this way.
   * @internal Not exported from the package root; the key service store only.
   * @throws AuditError(AUDIT_WRITE_FAILED) (the caller must refuse the request: fail closed).
   */
  appendAuditEvent(event: AuditEvent): void {
    recordOrFail(this.#live(), event);
  }

  /** Who this handle acts as (recorded in audit). */
  get principal(): string {
    return this.#live().principal;
  }

  /** Creates a key; version 1 is primary. @throws KEY_EXISTS, INVALID_ARGUMENT */
  createKey(name: string, options: CreateKeyOptions = {}): KeyInfo {
    return createKey(this.#live(), name, options);
  }

  /** Adds a new primary version. @throws KEY_NOT_FOUND */
  rotateKey(name: string): KeyInfo {
    return rotateKey(this.#live(), name);
  }

  listKeys(): KeyInfo[] {
    const ctx = this.#live();
    return listKeyInfos(ctx.db, ctx.now());
  }

  /** @throws KEY_NOT_FOUND */
  showKey(name: string): KeyInfo {
    const ctx = this.#live();
    return keyInfo(ctx.db, name, ctx.now());
  }

  /** @throws KEY_STATE_CONFLICT for the primary ("rotate first") or a destroyed version */
  disableVersion(name: string, version: number): KeyInfo {
    this.#dropFieldKeys(name); // this handle's cached field keys must not outlive a state change
    return disableVersion(this.#live(), name, version);
  }

  /** @throws KEY_STATE_CONFLICT for a destroyed version */
  enableVersion(name: string, version: number): KeyInfo {
    return enableVersion(this.#live(), name, version);
  }

  /** Crypto-shreds a non-primary version. @throws KEY_STATE_CONFLICT for the primary */
  destroyVersion(name: string, version: number): { walTruncated: boolean } {
    this.#dropFieldKeys(name); // this handle's cached field keys must not outlive a state change
    return destroyVersion(this.#live(), name, version);
  }

  /** @throws INVALID_ARGUMENT unless 1 <= version <= primary */
  setMinDecryptVersion(name: string, version: number): KeyInfo {
    this.#dropFieldKeys(name); // this handle's cached field keys must not outlive a state change
    return setMinDecryptVersion(this.#live(), name, version);
  }

  /**
   * Runs `work` in one IMMEDIATE transaction, so every audit record written inside commits
   * together (one fsync at COMMIT) or not at all: the key service's group commit
   * (src/server/store/sqlite.ts) puts a batch of concurrent unwraps in one of these.
   * @internal Not exported from the package root; the key service store only.
   */
  transaction<T>(work: () => T): T {
    return this.#live().db.transaction(work).immediate();
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
  unwrapSync(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Buffer {
    return unwrapDataKey(this.#live(), entry, context, object);
  }

  /** {@link rewrap}, synchronously (for use inside {@link transaction}). @internal */
  rewrapSync(entry: WrappedKey, context: EncryptionContext, object: AuditObject): WrappedKey {
    return rewrapDataKey(this.#live(), entry, context, object);
  }

  async wrap(keyName: string, dataKey: Uint8Array, context: EncryptionContext): Promise<WrappedKey> {
    return wrapDataKey(this.#live(), keyName, dataKey, context);
  }

  async unwrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<Buffer> {
    return this.unwrapSync(entry, context, object);
  }

  async rewrap(entry: WrappedKey, context: EncryptionContext, object: AuditObject): Promise<WrappedKey> {
    return this.rewrapSync(entry, context, object);
  }

  /**
   * Field keys (src/fields): HKDF-SHA-256 (RFC 5869) from the version's KEK, empty salt,
   * info = "pipeseal-field-v1" || purpose. Audited as `object.operation` (e.g. "field-reveal")
   * once per (key, version, purpose, length, operation) for this handle; cached and wiped on close.
   * @throws UsageError(INVALID_ARGUMENT); KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_DISABLED |
   *   KEY_DESTROYED | KEY_BELOW_MIN_VERSION); AuditError(AUDIT_WRITE_FAILED) (fail closed).
   */
  async deriveFieldKey(keyName: string, version: number | "primary", purpose: string, object: AuditObject, length = 32): Promise<{ key: Buffer; version: number }> {
    const ctx = this.#live();
    validateKeyName(keyName);
    const operation = object?.operation;
    if (typeof operation !== "string" || !/^[a-z][a-z0-9-]{0,31}$/.test(operation) || operation === "init" || operation === "rewrap") {
      throw new UsageError("INVALID_ARGUMENT", "object.operation must be a data-access operation such as \"field-reveal\"");
    }
    if (typeof purpose !== "string" || !/^[a-z0-9][a-z0-9.:-]{0,63}$/.test(purpose)) throw new UsageError("INVALID_ARGUMENT", "invalid field-key purpose");
    if (!Number.isInteger(length) || length < 32 || length > 64) throw new UsageError("INVALID_ARGUMENT", "a field key is 32 to 64 bytes");
    const event = { operation, principal: ctx.principal, keyName: auditableName(keyName), keyVersion: typeof version === "number" ? version : null, objectPath: typeof object.path === "string" ? object.path : null, context: { purpose } };
    let v = 0;
    let kek: Buffer;
    try {
      const key = requireKey(ctx.db, keyName);
      v = version === "primary" ? key.primary_version : version;
      const cached = this.#fieldKeys.get(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`);
      if (cached) return { key: Buffer.from(cached), version: v };
      const row = requireVersion(ctx.db, keyName, v);
      // the same state rules as unwrap (unwrap.ts openEntry)
      if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${keyName} v${v} was destroyed`);
      if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${keyName} v${v} is disabled`);
      if (v < key.min_decrypt_version) throw new KeyError("KEY_BELOW_MIN_VERSION", `${keyName} v${v} is below the minimum decryption version ${key.min_decrypt_version}`);
      kek = ctx.master.openKek(keyName, v, row.kek);
    } catch (e) {
      recordBestEffort(ctx, { ...event, keyVersion: v || event.keyVersion, outcome: isPipesealError(e) && (e.name === "KeyError" || e.name === "UsageError") ? "denied" : "error", errorCode: isPipesealError(e) ? e.code : "INTERNAL" });
      throw e;
    }
    const derived = Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), Buffer.concat([Buffer.from("pipeseal-field-v1"), Buffer.from(purpose)]), length));
    kek.fill(0);
    try {
      recordOrFail(ctx, { ...event, keyVersion: v, outcome: "ok" }); // fail closed: no record, no key
    } catch (e) {
      derived.fill(0);
      throw e;
    }
    if (this.#fieldKeys.size === 0) this.#closeHooks.push(() => {
      this.#fieldKeys.forEach((k) => k.fill(0));
      this.#fieldKeys.clear();
    });
    this.#fieldKeys.set(`${keyName}\0${v}\0${purpose}\0${length}\0${operation}`, derived);
    return { key: Buffer.from(derived), version: v };
  }

  #dropFieldKeys(name: string): void {
    for (const [id, key] of this.#fieldKeys) {
      if (id.startsWith(`${name}\0`)) {
        key.fill(0);
        this.#fieldKeys.delete(id);
      }
    }
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

  /** The chain head; store it elsewhere to detect a rollback of the whole database. */
  auditHead(): AuditHead | null {
    return readAuditHead(this.#live().db);
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
    const ctx = this.#live();
    if (typeof event?.operation !== "string" || !CAPABILITY_OPERATION.test(event.operation)) {
      throw new UsageError("INVALID_ARGUMENT", "a capability audit operation must be a dotted name such as \"ca.issue\" (not key.*)");
    }
    const base = {
      operation: event.operation,
      principal: ctx.principal,
      keyName: event.keyName ?? null,
      keyVersion: event.keyVersion ?? null,
      objectPath: event.objectPath ?? null,
      context: event.context ?? null,
    };
    try {
      return ctx.db
        .transaction(() => {
          const result = change(ctx.db);
          recordOrFail(ctx, { ...base, outcome: "ok" });
          return result;
        })
        .immediate();
    } catch (e) {
      if (isPipesealError(e) && e.code !== "AUDIT_WRITE_FAILED" && e.code !== "AUDIT_CHAIN_BROKEN") {
        const outcome = e.name === "KeyError" || e.name === "UsageError" ? "denied" : "error";
        recordBestEffort(ctx, { ...base, outcome, errorCode: e.code });
      }
      throw e;
    }
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
    return truncateWal(this.#live());
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
      truncateWal(ctx);
    } finally {
      ctx.db.close();
      ctx.master.close();
    }
  }

  #live(): StoreContext {
    if (this.#ctx === null || (this.#owner !== null && this.#owner.#ctx === null)) throw new UsageError("INVALID_ARGUMENT", "the keystore is closed");
    return this.#ctx;
  }
}

