/**
 * `openKeystore`: checks the root key (master.key file, passphrase or HSM) against
 * keystore.db and builds the StoreContext every operation runs on. Split from keystore.ts so
 * the class holds only what a live handle does.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { HeadSealState } from "../audit/seal-head.js";
import { sealSqliteHead } from "../audit/seal-sqlite.js";
import { SqliteAuditSink } from "../audit/sqlite-sink.js";
import type { AuditEvent, AuditSink } from "../audit/types.js";
import { KeystoreError, UsageError } from "../errors.js";
import { KEYSTORE_DB_FILE, META, type Db, getMeta, migrate, openDb } from "./db.js";
import { LocalKeystore } from "./local-keystore.js";
import { MasterKey, type ScryptParams, deriveFromPassphrase, loadMasterKeyFile } from "./master-key.js";
import { checkKeystoreDbFile, checkKeystoreFolder } from "./permissions.js";
import { PKCS11_META, type Pkcs11OpenOptions, openPkcs11Root } from "./pkcs11/index.js";
import { defaultPrincipal } from "./principal.js";
import type { RootKey } from "./root-key.js";
import type { StoreContext } from "./store-context.js";
import { StateSeal } from "./key-state.js";
import { ensureKeyStateSealed } from "./seal-legacy.js";
import { MAX_WRAPS_PER_VERSION } from "./wrap-format.js";

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
  /** Told about a weakness that is not refused (a keystore.db others can read); default: process.emitWarning. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Opens the keystore in `home` and checks the master key or passphrase.
 * A keystore made before key-state MACs has its key rows sealed on this first open (seal-legacy.ts).
 * @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | KEYSTORE_INSECURE | MASTER_KEY_INSECURE | MASTER_KEY_UNAVAILABLE | MASTER_KEY_WRONG | KEYSTORE_CORRUPT)
 */
export async function openKeystore(home: string, options: OpenKeystoreOptions = {}): Promise<LocalKeystore> {
  const dbFile = path.join(home, KEYSTORE_DB_FILE);
  if (!existsSync(dbFile)) throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", `no keystore in ${home}; run \`pipeseal init\``);
  checkKeystoreFolder(home);
  checkKeystoreDbFile(dbFile, options.onWarning ?? ((m) => process.emitWarning(m, "PipesealWarning")));
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
  const auditKey = (data: Buffer) => master.auditMac(data);
  let headState: HeadSealState;
  try {
    headState = sealSqliteHead(db, auditKey, principal, now); // a keystore from before head MACs, once
  } catch (e) {
    master.close();
    db.close();
    throw e;
  }
  const sink = new SqliteAuditSink(db, auditKey, { now, unsealed: headState === "unsealed" });
  const extra = options.auditSink;
  const seal = StateSeal.fromRoot(master);
  const ctx: StoreContext = {
    db,
    master,
    seal,
    principal,
    keyringId: "local",
    maxWrapsPerVersion: limit,
    now,
    record(event: AuditEvent) {
      const stamped = { ...event, timeMs: event.timeMs ?? now() };
      const appended = sink.append(stamped);
      extra?.append(stamped);
      return appended;
    },
    batch: (work) => sink.batch(work),
  };
  try {
    ensureKeyStateSealed(ctx);
  } catch (e) {
    db.close();
    seal.close();
    master.close();
    throw e;
  }
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
