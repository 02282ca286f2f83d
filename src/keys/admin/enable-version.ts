/** `enableVersion`: a disabled version unwraps again (a destroyed one never does). */
import type { KeyInfo } from "../key-info.js";
import { changeVersion } from "./change-version.js";
import type { AdminOp } from "./operation.js";

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT if destroyed) */
export function enableVersion(name: string, version: number): AdminOp<KeyInfo> {
  return changeVersion("enable", name, version);
}
