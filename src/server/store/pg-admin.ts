/**
 * Key administration on PostgreSQL, each change a function run inside the caller's
 * transaction (pg-store.ts commits it with its audit record). A change locks its key row
 * FOR UPDATE first (rotation reads MAX(version) under that lock, and (key_name, version) is
 * the primary key), so concurrent changes through any replica serialize per key; the audit
 * head is locked after, by the append. The state rules
 * are src/keys/key-lifecycle.ts's, as for the local keystore. Every change checks
 * the key's rows first and reseals them after (pg-keys.ts changeKeyStatePg).
 */
import type { PoolClient } from "pg";
import { generateKek } from "../../keys/kek.js";
import type { KeyInfo } from "../../keys/key-info.js";
import { validateKeyName, validateVersion } from "../../keys/names.js";
import type { StateSeal } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { type VersionChange, checkMinDecryptVersion, checkRotationPeriod, keyExists, nextVersionState } from "../../keys/key-lifecycle.js";
import { changeKeyStatePg, keyInfoPg, requireVersionPg, resealKeyPg } from "./pg-keys.js";

/** A change: its result and, when it made one, the key version to record. */
export type Change = (c: PoolClient, now: number) => Promise<{ result: KeyInfo; keyVersion?: number }>;

export function createKeyChange(root: RootKey, seal: StateSeal, name: string, period: number | undefined): Change {
  return async (c, now) => {
    validateKeyName(name);
    checkRotationPeriod(period);
    const inserted = await c.query(
      "INSERT INTO keys (name, primary_version, min_decrypt_version, rotate_every_seconds, created_at) VALUES ($1, 1, 1, $2, $3) ON CONFLICT (name) DO NOTHING",
      [name, period ?? null, now],
    );
    if (inserted.rowCount === 0) throw keyExists(name);
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
  return versionChange(seal, "disable", name, version);
}

export function enableChange(seal: StateSeal, name: string, version: number): Change {
  return versionChange(seal, "enable", name, version);
}

/** Sets the KEK to NULL; the old row version still holds it until VACUUM (pg-shred.ts). */
export function destroyChange(seal: StateSeal, name: string, version: number): Change {
  return versionChange(seal, "destroy", name, version);
}

export function setMinVersionChange(seal: StateSeal, name: string, version: number): Change {
  return async (c, now) => {
    validateKeyName(name);
    validateVersion(version);
    await changeKeyStatePg(c, seal, name, async (key) => {
      checkMinDecryptVersion(key, version);
      await c.query("UPDATE keys SET min_decrypt_version = $1 WHERE name = $2", [version, name]);
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

/** Applies `change` to a checked version of the locked key as key-lifecycle.ts decides, then reseals the key. */
function versionChange(seal: StateSeal, change: VersionChange, name: string, version: number): Change {
  return async (c, now) => {
    validateKeyName(name);
    validateVersion(version);
    await changeKeyStatePg(c, seal, name, async (key) => {
      const state = nextVersionState(change, name, key, await requireVersionPg(c, seal, key, version));
      if (state === "destroyed") {
        await c.query(
          "UPDATE key_versions SET state = 'destroyed', kek = NULL, destroyed_at = COALESCE(destroyed_at, $1) WHERE key_name = $2 AND version = $3",
          [now, name, version],
        );
      } else {
        await c.query("UPDATE key_versions SET state = $1 WHERE key_name = $2 AND version = $3", [state, name, version]);
      }
    });
    return { result: await keyInfoPg(c, seal, name, now) };
  };
}

async function insertVersion(c: PoolClient, root: RootKey, name: string, version: number, now: number): Promise<void> {
  const kek = generateKek();
  try {
    const blob = root.sealKek(name, version, kek);
    await c.query("INSERT INTO key_versions (key_name, version, state, kek, created_at, wrap_count) VALUES ($1, $2, 'enabled', $3, $4, 0)", [
      name,
      version,
      blob,
      now,
    ]);
  } finally {
    kek.fill(0);
  }
}
