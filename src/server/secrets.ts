/**
 * The key service's secret store: the same model as the local one (src/secrets/store.ts —
 * versioned values, each sealed under its own data key wrapped by `secrets/<namespace>`, name
 * and version bound as associated data), over any KeyStore (SQLite, PostgreSQL). The routes
 * (routes/secrets.ts) decide and record first; here the rules, written once for both stores:
 *
 * - a value is sealed before it reaches the store, and opened INSIDE the audited unwrap
 *   (`KeyStore.unwrap` with `open`): the data key never leaves the store, and a value that does
 *   not authenticate is recorded as a failed read, not as an `ok` one;
 * - a read returns the value only after the unwrap record (`secret-read`) and the read record
 *   (`secret.read`, naming the reader and what it was for) have committed (fail closed);
 * - the state rules of a read are src/secrets/rows.ts `readableVersion`, shared with the
 *   local store.
 */
import { KeyError, UsageError, isPipesealError } from "../errors.js";
import { type SecretInfo, toSecretInfo } from "../secrets/info.js";
import { secretKeyName, validateSecretName, validateSecretValue, validateSecretVersion } from "../secrets/names.js";
import { type SecretStateChange, readableVersion } from "../secrets/rows.js";
import { newDataKey, openValue, sealValue, secretContext } from "../secrets/seal.js";
import { readPurpose } from "../secrets/store.js";
import type { KeyStore } from "./store/types.js";
import { type Actor, principalOf } from "./store/actor.js";

/** Who creates a namespace's key on its first secret (the service itself, as for its token key). */
const SERVICE = "pipeseal-serve";

export async function showSecret(store: KeyStore, name: string): Promise<SecretInfo> {
  validateSecretName(name);
  const rows = await store.secretRows(name);
  if (rows === undefined) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}`);
  return toSecretInfo(rows.secret, rows.versions);
}

export async function listSecrets(store: KeyStore): Promise<SecretInfo[]> {
  return (await store.listSecretRows()).map((r) => toSecretInfo(r.secret, r.versions));
}

/**
 * Stores `value` as a new primary version of `name` (version 1 if new; `rotate` requires the
 * secret to exist). The caller keeps `value` and wipes it.
 * @throws UsageError(INVALID_ARGUMENT); KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT); KeyError from the namespace key; AuditError(AUDIT_WRITE_FAILED).
 */
export async function setSecret(
  store: KeyStore,
  principal: Actor,
  name: string,
  value: Uint8Array,
  mode: "set" | "rotate",
  now: () => number,
): Promise<SecretInfo> {
  validateSecretName(name);
  validateSecretValue(value);
  const keyName = secretKeyName(name);
  await ensureKey(store, keyName);
  for (let attempt = 0; attempt < 5; attempt++) {
    const rows = await store.secretRows(name);
    const version = Math.max(0, ...(rows?.versions.map((v) => Number(v.version)) ?? [])) + 1;
    if (mode === "rotate" && version === 1) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}; create it with \`pipeseal secret set ${name}\``);
    const context = secretContext(name, version);
    const dek = newDataKey();
    let entry, sealed;
    try {
      entry = await store.wrap(principal, keyName, dek, context);
      sealed = sealValue(dek, value, context);
    } finally {
      dek.fill(0);
    }
    const event = {
      operation: `secret.${mode}`,
      keyName,
      keyVersion: entry.keyVersion,
      objectPath: `secret:${name}`,
      context: { secret: name, version: String(version) },
    };
    const put = {
      name,
      version,
      keyring: entry.keyring,
      keyName: entry.keyName,
      keyVersion: entry.keyVersion,
      wrapped: entry.wrapped,
      sealed,
      at: now(),
      by: principalOf(principal),
    };
    if (await store.putSecretVersion(principal, put, event)) return showSecret(store, name);
  }
  throw new KeyError("SECRET_STATE_CONFLICT", `${name} is being changed by another writer; retry`);
}

/**
 * Reads a value (the primary unless `version`); the caller owns it and wipes it. `pid`: the
 * reading process on the caller's host, recorded in `secret.read` as a local read records it. As an
 * Attributed caller, both of its records (the unwrap, `secret-read`, and the read mark,
 * `secret.read`) carry the decision.
 * @throws KeyError(SECRET_NOT_FOUND | SECRET_DISABLED | SECRET_DESTROYED); KeyError from the
 *   namespace key (KEY_DISABLED …); DecryptError; AuditError(AUDIT_WRITE_FAILED).
 */
export async function readSecret(
  store: KeyStore,
  principal: Actor,
  name: string,
  options: { version?: number; for: string; pid?: number },
): Promise<{ value: Buffer; version: number }> {
  validateSecretName(name);
  if (options.version !== undefined) validateSecretVersion(options.version);
  const purpose = readPurpose(options.for);
  const rows = await store.secretRows(name);
  if (rows === undefined) throw new KeyError("SECRET_NOT_FOUND", `no secret ${name}`);
  const version = options.version ?? Number(rows.secret.primary_version);
  const v = readableVersion(
    name,
    version,
    rows.versions.find((x) => Number(x.version) === version),
  );
  const context = secretContext(name, version);
  const entry = { keyring: v.keyring, keyName: v.key_name, keyVersion: Number(v.key_version), wrapped: v.wrapped_dek };
  const value = await store.unwrap(principal, entry, context, { operation: "secret-read", path: `secret:${name}@v${version}` }, (dek) =>
    openValue(dek, v.sealed, context),
  );
  try {
    await store.markSecretRead(principal, name, version, purpose, {
      operation: "secret.read",
      keyName: v.key_name,
      keyVersion: Number(v.key_version),
      objectPath: `secret:${name}`,
      context: { secret: name, version: String(version), for: purpose, ...(options.pid !== undefined ? { pid: String(options.pid) } : {}) },
    });
  } catch (e) {
    value.fill(0); // no read record, no value
    throw e;
  }
  return { value, version };
}

/**
 * Disables, enables or destroys a version (destroy `"all"`: every version). Idempotent for
 * destroy. @throws UsageError(INVALID_ARGUMENT); KeyError(SECRET_NOT_FOUND | SECRET_STATE_CONFLICT); AuditError.
 */
export async function changeSecret(store: KeyStore, principal: Actor, name: string, version: number | "all", change: SecretStateChange): Promise<SecretInfo> {
  validateSecretName(name);
  if (version !== "all") validateSecretVersion(version);
  if (version === "all" && change !== "destroy") throw new UsageError("INVALID_ARGUMENT", `${change} needs a version`);
  await store.changeSecretState(principal, name, version, change, {
    operation: `secret.${change}`,
    keyName: secretKeyName(name),
    objectPath: `secret:${name}`,
    context: { secret: name, version: String(version) },
  });
  return showSecret(store, name);
}

/** Creates `secrets/<namespace>` on first use, as the service (looked up first, so a set does not record a refused create). */
async function ensureKey(store: KeyStore, keyName: string): Promise<void> {
  try {
    await store.showKey(keyName);
    return;
  } catch (e) {
    if (!(isPipesealError(e) && e.code === "KEY_NOT_FOUND")) throw e;
  }
  try {
    await store.createKey(SERVICE, keyName);
  } catch (e) {
    if (!(isPipesealError(e) && e.code === "KEY_EXISTS")) throw e; // another replica made it meanwhile
  }
}
