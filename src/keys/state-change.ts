/**
 * Administrative changes of a key's state on the local keystore: check every row of the key,
 * apply the change, then reseal all of them under the next generation (key-state.ts
 * sealKeySet), inside the caller's transaction. Checking first means a row tampered with
 * outside pipeseal is refused (KEYSTORE_CORRUPT), never laundered into a valid one by the
 * next rotation.
 */
import { KeystoreError } from "../errors.js";
import { sealKeySet } from "./key-state.js";
import { type KeyRow, type Rows, listVersions, rawKey, rawVersions, requireKey } from "./rows.js";
import { cached } from "../io/statement.js";

/** Runs `change(key)` on the checked key `name`, then reseals it. @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function changeKeyState<T>(r: Rows, name: string, change: (key: KeyRow) => T): T {
  const key = requireKey(r, name);
  listVersions(r, key);
  const result = change(key);
  resealKey(r, name);
  return result;
}

/** Seals the rows of `name` as they are now (after a change, or a key just inserted with generation 0). */
export function resealKey(r: Rows, name: string): void {
  const key = rawKey(r.db, name);
  if (key === undefined) throw new KeystoreError("KEYSTORE_CORRUPT", `key ${name} vanished during a change`);
  const sealed = sealKeySet(r.seal, key, rawVersions(r.db, name));
  cached(r.db, "UPDATE keys SET state_gen = ?, state_mac = ? WHERE name = ?").run(sealed.gen, sealed.keyMac, name);
  const update = cached(r.db, "UPDATE key_versions SET state_gen = ?, state_mac = ? WHERE key_name = ? AND version = ?");
  for (const v of sealed.versionMacs) update.run(sealed.gen, v.mac, name, v.version);
}
