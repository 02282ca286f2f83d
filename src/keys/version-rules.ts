/**
 * What a key version's state allows, for every store (the local keystore, the key service's
 * SQLite and PostgreSQL stores): one rule, so the stores cannot drift. A version opens for
 * decryption (unwrap, rewrap, field keys) unless destroyed, disabled or below the key's minimum
 * decryption version; it takes new wraps while it is enabled, below its wrap limit
 * (NIST SP 800-38D §8.3). Both return the sealed KEK the caller may open.
 */
import { KeyError } from "../errors.js";
import type { KeyRow, VersionRow } from "./rows.js";

/** @throws KeyError(KEY_DESTROYED | KEY_DISABLED | KEY_BELOW_MIN_VERSION) */
export function kekForDecrypt(name: string, key: Pick<KeyRow, "min_decrypt_version">, row: Pick<VersionRow, "version" | "state" | "kek">): Buffer {
  if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${name} v${row.version} was destroyed`);
  if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${name} v${row.version} is disabled`);
  if (row.version < key.min_decrypt_version) {
    throw new KeyError("KEY_BELOW_MIN_VERSION", `${name} v${row.version} is below the minimum decryption version ${key.min_decrypt_version}`);
  }
  return row.kek;
}

/** @throws KeyError(KEY_DESTROYED | KEY_DISABLED | KEY_USAGE_LIMIT) */
export function kekForWrap(name: string, row: Pick<VersionRow, "version" | "state" | "kek" | "wrap_count">, maxWraps: number): Buffer {
  if (row.state === "destroyed" || row.kek === null) throw new KeyError("KEY_DESTROYED", `${name} v${row.version} was destroyed`);
  if (row.state === "disabled") throw new KeyError("KEY_DISABLED", `${name} v${row.version} is disabled`);
  if (row.wrap_count >= maxWraps) throw new KeyError("KEY_USAGE_LIMIT", `${name} v${row.version} reached its limit of ${maxWraps} wraps; rotate the key`);
  return row.kek;
}
