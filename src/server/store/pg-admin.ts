/**
 * Key administration on PostgreSQL, each change a function run inside the caller's
 * transaction (pg-store.ts commits it with its audit record). A change locks its key row
 * FOR UPDATE first (rotation reads MAX(version) under that lock, and (key_name, version) is
 * the primary key), so concurrent changes through any replica serialize per key; the audit
 * head is locked after, by the append. The state rules are the local keystore's
 * (src/keys/version-state.ts): the primary is always enabled, destroyed is final. Every
 * change checks the key's rows first and reseals them after (pg-keys.ts changeKeyStatePg).
 */
import type { PoolClient } from "pg";
import { KeyError, UsageError } from "../../errors.js";
import { generateKek } from "../../keys/kek.js";
import type { KeyInfo } from "../../keys/key-info.js";
import { validateKeyName, validateVersion } from "../../keys/names.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import type { VersionRow } from "../../keys/rows.js";
import { changeKeyStatePg, keyInfoPg, requireVersionPg, resealKeyPg } from "./pg-keys.js";

/** A change: its result and, when it made one, the key version to record. */
export type Change = (c: PoolClient, now: number) => Promise<{ result: KeyInfo; keyVersion?: number }>;

export function createKeyChange(root: RootKey, seal: StateSeal, name: string, period: number | undefined): Change {
  return async (c, now) => {
    validateKeyName(name);
    if (period !== undefined && (!Number.isSafeInteger(period) || period < 1)) throw new UsageError("INVALID_ARGUMENT", "rotateEverySeconds must be a positive integer");
    const inserted = await c.query("INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES ($1, 1, 1, $2, $3) ON CONFLICT (name) DO NOTHING", [name, period ?? null, now]);
    if (inserted.rowCount === 0) throw new KeyError("KEY_EXISTS", `a key named "${name}" already exists`);
    await insertVersion(c, root, name, 1, now);
    await resealKeyPg(c, seal, name);
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

export function rotateKeyChange(root: RootKey, seal: StateSeal, name: string): Change {
  return async (c, now) => {
    validateKeyName(name);
    // the key row is locked FOR UPDATE first: serializes rotations of this key across replicas
    const version = await changeKeyStatePg(c, seal, name, async () => {
      const { max } = (await c.query<{ max: number }>("SELECT MAX(version) AS max FROM key_versions WHERE key_name = $1", [name])).rows[0];
      await insertVersion(c, root, name, max + 1, now);
      await c.query("UPDATE keys SET primary_version = $1 WHERE name = $2", [max + 1, name]);
      return max + 1;
    });
    return { result: await keyInfoPg(c, seal, name, now), keyVersion: version };
  };
}

export function disableChange(seal: StateSeal, name: string, version: number): Change {
  return async (c, now) => {
    await nonPrimary(c, seal, name, version, "disabled", async (row) => {
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed`);
      await c.query("UPDATE key_versions SET state = 'disabled' WHERE key_name = $1 AND version = $2", [name, version]);
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

export function enableChange(seal: StateSeal, name: string, version: number): Change {
  return async (c, now) => {
    validateKeyName(name);
    validateVersion(version);
    await changeKeyStatePg(c, seal, name, async (key) => {
      const row = await requireVersionPg(c, seal, key, version);
      if (row.state === "destroyed") throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is destroyed and cannot be enabled`);
      await c.query("UPDATE key_versions SET state = 'enabled' WHERE key_name = $1 AND version = $2", [name, version]);
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

/** Sets the KEK to NULL; the old row version still holds it until VACUUM (pg-shred.ts). */
export function destroyChange(seal: StateSeal, name: string, version: number): Change {
  return async (c, now) => {
    await nonPrimary(c, seal, name, version, "destroyed", async () => {
      await c.query("UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, $1) WHERE key_name = $2 AND version = $3", [now, name, version]);
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

export function setMinVersionChange(seal: StateSeal, name: string, version: number): Change {
  return async (c, now) => {
    validateKeyName(name);
    validateVersion(version);
    await changeKeyStatePg(c, seal, name, async (key) => {
      if (version > key.primary_version) throw new UsageError("INVALID_ARGUMENT", `the minimum decryption version must be at most the primary version ${key.primary_version}`);
      await c.query("UPDATE keys SET min_decrypt_version = $1 WHERE name = $2", [version, name]);
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

async function insertVersion(c: PoolClient, root: RootKey, name: string, version: number, now: number): Promise<void> {
  const kek = generateKek();
  try {
    const blob = root.sealKek(name, version, kek);
    await c.query("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES ($1, $2, 'enabled', $3, $4, 0)", [name, version, blob, now]);
  } finally {
    kek.fill(0);
  }
}

/** Runs `change` on a checked non-primary version of the locked key, then reseals the key. */
async function nonPrimary(c: PoolClient, seal: StateSeal, name: string, version: number, verb: string, change: (row: VersionRow) => Promise<void>): Promise<void> {
  validateKeyName(name);
  validateVersion(version);
  await changeKeyStatePg(c, seal, name, async (key) => {
    const row = await requireVersionPg(c, seal, key, version);
    if (key.primary_version === version) throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version} is the primary version and cannot be ${verb}; rotate first`);
    await change(row);
  });
}
