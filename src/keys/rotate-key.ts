/** `rotateKey`: a new version becomes primary; old versions stay usable for unwrap. */
import { runAdminOp } from "./admin-op.js";
import { insertVersion } from "./create-key.js";
import { type KeyInfo, keyInfo } from "./key-info.js";
import { auditableName, validateKeyName } from "./names.js";
import { requireKey } from "./rows.js";
import type { StoreContext } from "./store-context.js";

/** @throws KeyError(KEY_NOT_FOUND) */
export function rotateKey(ctx: StoreContext, name: string): KeyInfo {
  return runAdminOp(ctx, "key.rotate", { keyName: auditableName(name) }, () => {
    validateKeyName(name);
    requireKey(ctx.db, name);
    const { max } = ctx.db.prepare("SELECT MAX(version) AS max FROM key_versions WHERE key_name = ?").get(name) as { max: number };
    const version = max + 1;
    const now = ctx.now();
    insertVersion(ctx, name, version, now);
    ctx.db.prepare("UPDATE keys SET primary_version = ? WHERE name = ?").run(version, name);
    return { result: keyInfo(ctx.db, name, now), keyVersion: version };
  });
}
