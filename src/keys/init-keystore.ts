/**
 * `initKeystore`: creates a keystore (the root key, then keystore.db with its first audit
 * record). Split from keystore.ts: creation shares nothing with an open handle but the
 * default principal.
 */
import { randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { writeAuditHead } from "../audit/head.js";
import { INIT_CONTEXT } from "../audit/head-mac.js";
import { SqliteAuditSink } from "../audit/sqlite-sink.js";
import { KeystoreError, UsageError } from "../errors.js";
import { trackTemp } from "../io/temp-files.js";
import { KEYSTORE_DB_FILE, META, migrate, openDb, setMeta } from "./db.js";
import { MASTER_KEY_FILE, MasterKey, createMasterKeyFile, deriveFromPassphrase, fsyncDir, newScryptParams } from "./master-key.js";
import { PKCS11_META, type Pkcs11Login, Pkcs11RootKey } from "./pkcs11/index.js";
import { checkNewPassphrase } from "./passphrase-strength.js";
import { checkKeystoreFolder } from "./permissions.js";
import { defaultPrincipal } from "./principal.js";
import type { RootKey } from "./root-key.js";
import { KEY_STATE_META, StateSeal } from "./key-state.js";

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

/**
 * Creates a keystore in `home` (folder created with mode 0700): a master.key file (0600) or,
 * with a passphrase, scrypt parameters in the database; then `keystore.db`, built under a
 * temporary name and renamed into place so a crash never leaves a half-made keystore.
 * @throws KeystoreError(KEYSTORE_EXISTS) if a keystore.db or master.key is already there;
 *   KeystoreError(KEYSTORE_INSECURE) if an existing `home` is writable by group or others;
 *   KeystoreError(PASSPHRASE_WEAK) for a passphrase under 12 characters or ~50 bits (passphrase-strength.ts).
 */
export async function initKeystore(home: string, options: InitKeystoreOptions = {}): Promise<void> {
  const created = await fs.mkdir(home, { recursive: true, mode: 0o700 });
  if (created !== undefined) await fs.chmod(home, 0o700);
  else checkKeystoreFolder(home); // an existing folder others can write is no place for a root key
  const dbFile = path.join(home, KEYSTORE_DB_FILE);
  if (existsSync(dbFile)) throw new KeystoreError("KEYSTORE_EXISTS", `a keystore already exists in ${home}`);
  if (existsSync(path.join(home, MASTER_KEY_FILE))) {
    throw new KeystoreError(
      "KEYSTORE_EXISTS",
      `${path.join(home, MASTER_KEY_FILE)} exists without keystore.db (an interrupted init?); move it away to start over`,
    );
  }
  const hsm = options.root?.pkcs11;
  if (hsm !== undefined && options.passphrase !== undefined) throw new UsageError("INVALID_ARGUMENT", "an HSM root and a passphrase are exclusive");
  if (options.passphrase !== undefined) checkNewPassphrase(options.passphrase); // offline guessing against keystore.db
  const params = options.passphrase === undefined || hsm !== undefined ? null : newScryptParams();
  let master: RootKey;
  if (hsm !== undefined) master = Pkcs11RootKey.generate(hsm);
  else master = MasterKey.fromRoot(params === null ? await createMasterKeyFile(home) : await deriveFromPassphrase(options.passphrase as string, params));
  let done = false;
  const tmp = path.join(home, `.${KEYSTORE_DB_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  const untrack = [tmp, `${tmp}-wal`, `${tmp}-shm`].map((f) => trackTemp(f)); // removed on a stop signal
  try {
    const db = openDb(tmp, { create: true });
    try {
      migrate(db);
      db.transaction(() => {
        setMeta(db, META.masterSource, master instanceof Pkcs11RootKey ? "pkcs11" : params === null ? "file" : "passphrase");
        if (params !== null) setMeta(db, META.masterScrypt, JSON.stringify(params));
        if (master instanceof Pkcs11RootKey) setMeta(db, PKCS11_META, JSON.stringify(master.info));
        setMeta(db, META.masterCheck, master.checkValue());
        const seal = StateSeal.fromRoot(master);
        setMeta(db, KEY_STATE_META, seal.marker()); // born sealed: every key row will carry a state MAC
        seal.close();
        writeAuditHead(db, { seq: 0, mac: "" });
        // the init record marks what the store is born with: an authenticated head (head-mac.ts), sealed key state (key-state.ts)
        new SqliteAuditSink(db, (data) => master.auditMac(data), { genesis: true }).append({
          operation: "init",
          principal: defaultPrincipal(options.principal),
          outcome: "ok",
          context: INIT_CONTEXT,
        });
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
    for (const u of untrack) u();
  }
}
