/** `rotateKey`: a new version becomes primary; old versions stay usable for unwrap. */
import type { KeyInfo } from "../key-info.js";
import { validateKeyName } from "../names.js";
import { changeKeyState, insertVersion, keyInfo } from "./key-rows.js";
import { type AdminOp, adminTarget } from "./operation.js";
import { ask } from "./statements.js";

/** @throws KeyError(KEY_NOT_FOUND) */
export function rotateKey(name: string): AdminOp<KeyInfo> {
  return {
    operation: "key.rotate",
    target: adminTarget(name, null),
    *steps({ root, seal, now }) {
      validateKeyName(name);
      // MAX(version) is read under the key's lock: rotations of one key serialize across replicas
      const version = yield* changeKeyState(seal, name, function* () {
        const next = (yield* ask("maxVersion", name)) + 1;
        yield* insertVersion(root, name, next, now);
        yield* ask("setPrimary", name, next);
        return next;
      });
      return { result: yield* keyInfo(seal, name, now), keyVersion: version };
    },
  };
}
