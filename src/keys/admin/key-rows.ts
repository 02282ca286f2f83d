/**
 * Checked reads and state changes of keys over the storage seam (statements.ts), for every
 * store. Every row read for use or display is checked against its state MAC (key-state.ts),
 * so a row edited outside pipeseal is KEYSTORE_CORRUPT; a change checks every row of the key
 * first and reseals them all under the next generation after, so a tampered row is refused,
 * never laundered into a valid one by the next change.
 */
import { KeystoreError } from "../../errors.js";
import { generateKek } from "../kek.js";
import { type KeyInfo, keyInfoFrom } from "../key-info.js";
import { type StateSeal, sealKeySet } from "../key-state.js";
import type { RootKey } from "../root-key.js";
import { type KeyRow, type VersionRow, checkedKey, checkedVersion } from "../rows.js";
import { type Steps, ask } from "./statements.js";

/** @throws KeystoreError(KEYSTORE_CORRUPT) */
export function* findKey(seal: StateSeal, name: string): Steps<KeyRow | undefined> {
  const key = yield* ask("keyRow", name, "none");
  return key === undefined ? undefined : seal.checkKey(key);
}

/** @throws KeyError(KEY_VERSION_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) */
export function* requireVersion(seal: StateSeal, key: KeyRow, version: number): Steps<VersionRow> {
  return checkedVersion(seal, key, version, yield* ask("versionRow", key.name, version, "none"));
}

/**
 * Runs `change(key)` on the checked key `name`, locked for the transaction (FOR UPDATE on
 * PostgreSQL, before any other row of it), every version checked; then reseals the key.
 * @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT)
 */
export function* changeKeyState<T>(seal: StateSeal, name: string, change: (key: KeyRow) => Steps<T>): Steps<T> {
  const key = checkedKey(seal, name, yield* ask("keyRow", name, "update"));
  for (const v of yield* ask("versionRows", name)) seal.checkVersion(key, v);
  const result = yield* change(key);
  yield* resealKey(seal, name);
  return result;
}

/** Seals the rows of `name` as they are now (after a change, a key just inserted with generation 0, or a legacy store's first open). */
export function* resealKey(seal: StateSeal, name: string): Steps<void> {
  const key = yield* ask("keyRow", name, "none");
  if (key === undefined) throw new KeystoreError("KEYSTORE_CORRUPT", `key ${name} vanished during a change`);
  yield* ask("writeSeals", name, sealKeySet(seal, key, yield* ask("versionRows", name)));
}

/** Inserts version `version` of `name` with a fresh random KEK, sealed under the root (the plaintext is wiped before the statement runs); the caller reseals the key. */
export function* insertVersion(root: RootKey, name: string, version: number, now: number): Steps<void> {
  const kek = generateKek();
  let sealed: Buffer;
  try {
    sealed = root.sealKek(name, version, kek);
  } finally {
    kek.fill(0);
  }
  yield* ask("insertVersion", name, version, sealed, now);
}

/** @throws KeyError(KEY_NOT_FOUND), KeystoreError(KEYSTORE_CORRUPT) for a row edited outside pipeseal */
export function* keyInfo(seal: StateSeal, name: string, nowMs: number): Steps<KeyInfo> {
  return yield* toInfo(seal, checkedKey(seal, name, yield* ask("keyRow", name, "none")), nowMs);
}

/** @throws KeystoreError(KEYSTORE_CORRUPT) if any key's rows do not authenticate */
export function* listKeyInfos(seal: StateSeal, nowMs: number): Steps<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for (const key of yield* ask("keyRows")) out.push(yield* toInfo(seal, seal.checkKey(key), nowMs));
  return out;
}

function* toInfo(seal: StateSeal, key: KeyRow, nowMs: number): Steps<KeyInfo> {
  const versions = (yield* ask("versionRows", key.name)).map((v) => seal.checkVersion(key, v));
  return keyInfoFrom(key, versions, nowMs);
}
