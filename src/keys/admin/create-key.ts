/** `createKey`: a new named key with version 1 as primary. */
import type { KeyInfo } from "../key-info.js";
import { checkRotationPeriod, keyExists } from "../key-lifecycle.js";
import { validateKeyName } from "../names.js";
import { findKey, insertVersion, keyInfo, resealKey } from "./key-rows.js";
import { type AdminOp, adminTarget } from "./operation.js";
import { ask } from "./statements.js";

export interface CreateKeyOptions {
  /** Rotation period; `showKey` reports `rotationDue` once the primary is older. */
  readonly rotateEverySeconds?: number;
}

/**
 * A taken name is KEY_EXISTS whether this transaction sees the row (a tampered one is
 * KEYSTORE_CORRUPT) or a concurrent replica's insert wins the race (the insert's ON CONFLICT).
 * @throws UsageError(INVALID_ARGUMENT) on a bad name or period; KeyError(KEY_EXISTS).
 */
export function createKey(name: string, options: CreateKeyOptions = {}): AdminOp<KeyInfo> {
  const period = options?.rotateEverySeconds; // a JavaScript caller may pass null
  return {
    operation: "key.create",
    target: adminTarget(name, 1),
    *steps({ root, seal, now }) {
      validateKeyName(name);
      checkRotationPeriod(period);
      if ((yield* findKey(seal, name)) !== undefined || !(yield* ask("insertKey", name, period ?? null, now))) throw keyExists(name);
      yield* insertVersion(root, name, 1, now);
      yield* resealKey(seal, name);
      return { result: yield* keyInfo(seal, name, now) };
    },
  };
}
