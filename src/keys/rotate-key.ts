/** `rotateKey`: a new version becomes primary; old versions stay usable for unwrap. */
import { runAdminOp } from "./admin-op.js";
import { insertVersion } from "./create-key.js";
import { type KeyInfo, keyInfo } from "./key-info.js";
import { auditableName, validateKeyName } from "./names.js";
import { changeKeyState } from "./state-change.js";
import type { StoreContext } from "./store-context.js";

/** @throws KeyError(KEY_NOT_FOUND) */
export function rotateKey(ctx: StoreContext, name: string): KeyInfo {
  return runAdminOp(ctx, "key.rotate", { keyName: auditableName(name) }, () => {
    validateKeyName(name);
    const now = ctx.now();
    const version = changeKeyState(ctx, name, () => {
      const { max } = ctx.db.prepare("SELECT MAX(version) AS max FROM key_versions WHERE key_name = ?").get(name) as { max: number };
      insertVersion(ctx, name, max + 1, now);
      ctx.db.prepare("UPDATE keys SET primary_version = ? WHERE name = ?").run(max + 1, name);
      return max + 1;
    });
    return { result: keyInfo(ctx, name, now), keyVersion: version };
  });
}
