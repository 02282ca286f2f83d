/**
 * The rules of a key's life (creation, version states, the minimum decryption version),
 * written once for every store (the local keystore, the key service's SQLite store through
 * it, and PostgreSQL): the operations in admin/ read the checked rows, ask these functions,
 * and write what they answer through the storage seam (admin/statements.ts). Tink's key
 * model (keyset/manager.go): the primary version is always enabled, so it cannot be disabled
 * or destroyed (rotate first); a destroyed version is final; disabling or enabling a version
 * already in that state is a no-op (still audited).
 */
import { KeyError, UsageError } from "../errors.js";
import type { KeyState } from "./rows.js";

/** A change of one version's state, as the admin operations name it. */
export type VersionChange = "disable" | "enable" | "destroy";

const RESULT: Record<VersionChange, KeyState> = { disable: "disabled", enable: "enabled", destroy: "destroyed" };

/**
 * The state `version` of key `name` moves to under `change`.
 * @throws KeyError(KEY_STATE_CONFLICT) for the primary (disable, destroy) or a destroyed version (disable, enable)
 */
export function nextVersionState(
  change: VersionChange,
  name: string,
  key: { primary_version: number },
  version: { version: number; state: KeyState },
): KeyState {
  const to = RESULT[change];
  if (change !== "enable" && key.primary_version === version.version) {
    throw new KeyError("KEY_STATE_CONFLICT", `${name} v${version.version} is the primary version and cannot be ${to}; rotate first`);
  }
  if (change !== "destroy" && version.state === "destroyed") {
    throw new KeyError(
      "KEY_STATE_CONFLICT",
      change === "enable" ? `${name} v${version.version} is destroyed and cannot be enabled` : `${name} v${version.version} is destroyed`,
    );
  }
  return to;
}

/** @throws UsageError(INVALID_ARGUMENT) unless `version` lies in 1..primary (the caller validated it as a version number) */
export function checkMinDecryptVersion(key: { primary_version: number }, version: number): void {
  if (version > key.primary_version) {
    throw new UsageError("INVALID_ARGUMENT", `the minimum decryption version must be at most the primary version ${key.primary_version}`);
  }
}

/** @throws UsageError(INVALID_ARGUMENT) unless a rotation period, when given, is a positive whole number of seconds */
export function checkRotationPeriod(period: number | undefined): void {
  if (period !== undefined && (!Number.isSafeInteger(period) || period < 1))
    throw new UsageError("INVALID_ARGUMENT", "rotateEverySeconds must be a positive integer");
}

/** The error for a name already taken, whichever store found it. */
export function keyExists(name: string): KeyError {
  return new KeyError("KEY_EXISTS", `a key named "${name}" already exists`);
}
