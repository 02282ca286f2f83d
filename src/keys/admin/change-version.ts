/**
 * A change of one version's state (disable, enable, destroy), as key-lifecycle.ts decides it:
 * the one body of disable-version.ts, enable-version.ts and destroy-version.ts.
 */
import type { KeyInfo } from "../key-info.js";
import { type VersionChange, nextVersionState } from "../key-lifecycle.js";
import { validateKeyName, validateVersion } from "../names.js";
import { changeKeyState, keyInfo, requireVersion } from "./key-rows.js";
import { type AdminOp, adminTarget } from "./operation.js";
import { ask } from "./statements.js";

const OPERATION = { disable: "key.disable", enable: "key.enable", destroy: "key.destroy" } as const;

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT) */
export function changeVersion(change: VersionChange, name: string, version: number): AdminOp<KeyInfo> {
  return {
    operation: OPERATION[change],
    target: adminTarget(name, version),
    *steps({ seal, now }) {
      validateKeyName(name);
      validateVersion(version);
      yield* changeKeyState(seal, name, function* (key) {
        const state = nextVersionState(change, name, key, yield* requireVersion(seal, key, version));
        if (state === "destroyed") yield* ask("destroyVersion", name, version, now);
        else yield* ask("setVersionState", name, version, state);
      });
      return { result: yield* keyInfo(seal, name, now) };
    },
  };
}
