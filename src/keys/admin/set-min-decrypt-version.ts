/**
 * `setMinDecryptVersion`: the lowest version that may be unwrapped (versions below it are
 * refused with KEY_BELOW_MIN_VERSION). Must lie in 1..primary.
 */
import type { KeyInfo } from "../key-info.js";
import { checkMinDecryptVersion } from "../key-lifecycle.js";
import { validateKeyName, validateVersion } from "../names.js";
import { changeKeyState, keyInfo } from "./key-rows.js";
import { type AdminOp, adminTarget } from "./operation.js";
import { ask } from "./statements.js";

/** @throws UsageError(INVALID_ARGUMENT) outside 1..primary; KeyError(KEY_NOT_FOUND) */
export function setMinDecryptVersion(name: string, version: number): AdminOp<KeyInfo> {
  return {
    operation: "key.set-min-version",
    target: adminTarget(name, version),
    *steps({ seal, now }) {
      validateKeyName(name);
      validateVersion(version);
      yield* changeKeyState(seal, name, function* (key) {
        checkMinDecryptVersion(key, version);
        yield* ask("setMinDecryptVersion", name, version);
      });
      return { result: yield* keyInfo(seal, name, now) };
    },
  };
}
