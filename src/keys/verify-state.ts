/**
 * `verifyKeyState`: checks the state MAC of every key and version row (key-state.ts) and
 * lists those that fail, for `audit verify`: a keystore whose audit chain is intact but whose
 * key rows were edited must not be reported as sound. Reads only; never throws on tampering.
 */
import { isPipesealError } from "../errors.js";
import type { KeyRow } from "./rows.js";
import { type Rows, rawVersions } from "./rows.js";

export interface KeyStateProblem {
  readonly keyName: string;
  /** The version whose row fails, or null for the key row itself. */
  readonly version: number | null;
}

export interface KeyStateVerifyResult {
  readonly ok: boolean;
  /** Key rows checked. */
  readonly keys: number;
  readonly problems: readonly KeyStateProblem[];
}

export function verifyKeyState(r: Rows): KeyStateVerifyResult {
  const keys = r.db.prepare("SELECT * FROM keys ORDER BY name").all() as KeyRow[];
  const problems: KeyStateProblem[] = [];
  for (const key of keys) {
    if (!passes(() => r.seal.checkKey(key))) problems.push({ keyName: String(key.name), version: null });
    for (const v of rawVersions(r.db, key.name)) {
      if (!passes(() => r.seal.checkVersion(key, v))) problems.push({ keyName: String(key.name), version: Number(v.version) });
    }
  }
  return { ok: problems.length === 0, keys: keys.length, problems };
}

function passes(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch (e) {
    if (isPipesealError(e) && e.code === "KEYSTORE_CORRUPT") return false;
    throw e;
  }
}
