/**
 * The local secret store: small values sealed in keystore.db, versioned like keys (Tink's key
 * model: enabled / disabled / destroyed, one primary that is always enabled).
 *
 * Security guarantees: a value is never stored in the clear (seal.ts: its own data key,
 * wrapped by the keystore key `secrets/<namespace>`, name and version bound as associated
 * data); every read is audited before the value is returned (`secret.read`, naming the
 * principal and what the read was for, then the keystore's own `secret-read` unwrap record),
 * and fails closed if either record cannot be written; destroying a version deletes its
 * wrapped data key and sealed value (secure_delete zeroes the freed bytes) and truncates the
 * WAL, so no copy stays in keystore.db or keystore.db-wal. Not covered: values already handed
 * to a process, and copies of keystore.db made before the destroy.
 *
 * @example
 * const store = new SecretStore(ks);
 * await store.set("llm/openai", Buffer.from(token));
 * const { value } = await store.read("llm/openai", { for: "run: python3 train.py" });
 * use(value); value.fill(0);
 */
import { KeyError, isPipesealError } from "../errors.js";
import type { Db } from "../keys/db.js";
import type { LocalKeystore } from "../keys/local-keystore.js";
import { type SecretInfo, listSecretInfos, secretInfo } from "./info.js";
import { secretKeyName, validateSecretName, validateSecretValue, validateSecretVersion } from "./names.js";
import {
  type SecretRow,
  type SecretStateChange,
  applyStateChange,
  insertSecretVersion,
  markRead,
  maxVersion,
  readableVersion,
  secretRow,
  versionRow,
} from "./rows.js";
import { SECRETS_MIGRATIONS } from "./schema.js";
import { newDataKey, openValue, sealValue, secretContext } from "./seal.js";

export interface ReadOptions {
  /** Default: the primary version. */
  readonly version?: number;
  /** What the read is for, recorded in the audit record (e.g. `run: python3 train.py`); at most 200 characters are kept. */
  readonly for: string;
}

export interface SecretValue {
  /** The caller owns it: wipe it (`fill(0)`) when done. */
  readonly value: Buffer;
  readonly name: string;
  readonly version: number;
}

/** Where `pipeseal run` reads secrets from: the local store, or the key service (client side). */
export interface SecretSource {
  read(name: string, options: ReadOptions): Promise<SecretValue>;
}

/** Printable ASCII only, so an audit record cannot be made to hold control characters. */
export function readPurpose(text: unknown): string {
  const s = typeof text === "string" ? text.replace(/[^\x20-\x7e]/g, "?").slice(0, 200) : "";
  return s === "" ? "unspecified" : s;
}

export class SecretStore implements SecretSource {
  readonly #ks: LocalKeystore;
  readonly #now: () => number;

  /** Creates the store's tables on first use. @param options.now clock in epoch ms (tests). */
  constructor(ks: LocalKeystore, options: { now?: () => number } = {}) {
    ks.ensureTables("secrets", SECRETS_MIGRATIONS);
    this.#ks = ks;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Stores `value` as a new version of `name` (version 1 if new), which becomes the primary.
   * The caller keeps `value` and should wipe it.
   * @param mode "set" creates or adds a version; "rotate" requires the secret to exist.
   * @throws UsageError(INVALID_ARGUMENT); KeyError(SECRET_NOT_FOUND) for rotate of a missing
   *   secret; KeyError from the keystore key; AuditError(AUDIT_WRITE_FAILED).
   */
  async set(name: string, value: Uint8Array, mode: "set" | "rotate" = "set"): Promise<SecretInfo> {
    validateSecretName(name);
    validateSecretValue(value);
    const keyName = secretKeyName(name);
    this.#ensureKey(keyName);
    for (let attempt = 0; ; attempt++) {
      const version = this.#ks.readTables((db) => maxVersion(db, name)) + 1;
      if (mode === "rotate" && version === 1) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}; create it with \`pipeseal secret set ${name}\``);
      const context = secretContext(name, version);
      const dek = newDataKey();
      let entry, sealed;
      try {
        entry = await this.#ks.wrap(keyName, dek, context);
        sealed = sealValue(dek, value, context);
      } finally {
        dek.fill(0);
      }
      const added = this.#ks.auditedChange(
        {
          operation: `secret.${mode}`,
          keyName,
          keyVersion: entry.keyVersion,
          objectPath: `secret:${name}`,
          context: { secret: name, version: String(version) },
        },
        (db) =>
          // false: another process added a version meanwhile
          insertSecretVersion(db, {
            name,
            version,
            keyring: entry.keyring,
            keyName: entry.keyName,
            keyVersion: entry.keyVersion,
            wrapped: entry.wrapped,
            sealed,
            at: this.#now(),
            by: this.#ks.principal,
          }),
      );
      if (added) return this.show(name);
      if (attempt >= 4) throw new KeyError("SECRET_STATE_CONFLICT", `${name} is being changed by another process; retry`);
    }
  }

  list(): SecretInfo[] {
    return this.#ks.readTables((db) => listSecretInfos(db));
  }

  /** Metadata only. @throws KeyError(SECRET_NOT_FOUND) */
  show(name: string): SecretInfo {
    validateSecretName(name);
    return this.#ks.readTables((db) => secretInfo(db, requireSecret(db, name)));
  }

  /**
   * Reads a value, audited before it is returned (fail closed). A refused read (missing,
   * disabled, destroyed) is recorded as `denied`.
   * @throws UsageError(INVALID_ARGUMENT); KeyError(SECRET_NOT_FOUND | SECRET_DISABLED | SECRET_DESTROYED);
   *   KeyError from the keystore key (e.g. KEY_DISABLED); DecryptError; AuditError(AUDIT_WRITE_FAILED).
   */
  async read(name: string, options: ReadOptions): Promise<SecretValue> {
    validateSecretName(name);
    if (options.version !== undefined) validateSecretVersion(options.version);
    const purpose = readPurpose(options.for);
    let version = options.version ?? 0;
    const keyName = secretKeyName(name);
    // One IMMEDIATE transaction, so a read costs one commit (one fsync) for both records: the
    // `secret.read` record (reader, purpose; a refusal is recorded as denied) and the keystore's
    // unwrap record. A refusal or failed unwrap is caught inside, so its `denied`/`error` record
    // commits too (the failed step's own changes were rolled back by its savepoint), then rethrown.
    let failure: { error: unknown } | undefined;
    const value = this.#ks.transaction(() => {
      try {
        const row = this.#ks.auditedChange(
          {
            operation: "secret.read",
            keyName,
            objectPath: `secret:${name}`,
            context: { secret: name, version: String(version || "primary"), for: purpose, pid: String(process.pid) },
          },
          (db) => {
            const secret = requireSecret(db, name);
            version ||= secret.primary_version;
            const v = readableVersion(name, version, versionRow(db, name, version));
            markRead(db, name, version, this.#ks.principal, purpose, this.#now());
            return v;
          },
        );
        const context = secretContext(name, version);
        const entry = { keyring: row.keyring, keyName: row.key_name, keyVersion: row.key_version, wrapped: row.wrapped_dek };
        return this.#ks.unwrapSync(entry, context, { operation: "secret-read", path: `secret:${name}@v${version}` }, (dek) =>
          openValue(dek, row.sealed, context),
        );
      } catch (e) {
        if (isPipesealError(e) && (e.code === "AUDIT_WRITE_FAILED" || e.code === "AUDIT_CHAIN_BROKEN")) throw e; // no record: roll everything back
        failure = { error: e };
        return undefined;
      }
    });
    if (value === undefined) throw failure?.error;
    return { value, name, version };
  }

  /** @throws KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT for the primary or a destroyed version) */
  disable(name: string, version: number): SecretInfo {
    this.#change(name, version, "disable");
    return this.show(name);
  }

  /** @throws KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT for a destroyed version) */
  enable(name: string, version: number): SecretInfo {
    this.#change(name, version, "enable");
    return this.show(name);
  }

  /**
   * Crypto-shreds one version (`"all"`: every version, primary included, leaving the secret
   * unreadable): its wrapped data key and sealed value are deleted and the WAL truncated.
   * Idempotent.
   * @returns whether the WAL truncation succeeded (false if another connection blocked it).
   * @throws KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT for the primary version)
   */
  destroy(name: string, version: number | "all"): { walTruncated: boolean } {
    this.#change(name, version, "destroy");
    return { walTruncated: this.#ks.truncateWal() };
  }

  /** One state change and its record in one transaction; the rules are rows.ts `plannedState`. */
  #change(name: string, version: number | "all", change: SecretStateChange): void {
    validateSecretName(name);
    if (version !== "all") validateSecretVersion(version);
    this.#ks.auditedChange(
      { operation: `secret.${change}`, keyName: secretKeyName(name), objectPath: `secret:${name}`, context: { secret: name, version: String(version) } },
      (db) => applyStateChange(db, change, requireSecret(db, name), version, this.#now()),
    );
  }

  /** Creates `secrets/<namespace>` on first use (looked up first, so a set does not audit a refused key.create). */
  #ensureKey(keyName: string): void {
    try {
      this.#ks.showKey(keyName);
      return;
    } catch (e) {
      if (!(isPipesealError(e) && e.code === "KEY_NOT_FOUND")) throw e;
    }
    try {
      this.#ks.createKey(keyName);
    } catch (e) {
      if (!(isPipesealError(e) && e.code === "KEY_EXISTS")) throw e; // another process made it meanwhile
    }
  }
}

function requireSecret(db: Db, name: string): SecretRow {
  const row = secretRow(db, name);
  if (row === undefined) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}`);
  return row;
}
