/** `disableVersion`: the version stops wrapping and unwrapping until enabled again. */
import type { KeyInfo } from "../key-info.js";
import { changeVersion } from "./change-version.js";
import type { AdminOp } from "./operation.js";

/** @throws KeyError(KEY_NOT_FOUND | KEY_VERSION_NOT_FOUND | KEY_STATE_CONFLICT for the primary or a destroyed version) */
export function disableVersion(name: string, version: number): AdminOp<KeyInfo> {
  return changeVersion("disable", name, version);
}
