/**
 * Opening the PostgreSQL store's root key: on an empty database (with `create`), record the
 * root's source and check value and the `init` audit record; otherwise load the root from its
 * source and refuse a wrong one (MASTER_KEY_WRONG). Runs under an advisory lock, so replicas
 * starting together initialise the database exactly once.
 */
import type pg from "pg";
import { isPipesealError, KeystoreError } from "../../errors.js";
import { MasterKey, type ScryptParams, createMasterKeyFile, deriveFromPassphrase, loadMasterKeyFile, newScryptParams } from "../../keys/master-key.js";
import type { RootKey } from "../../keys/root-key.js";
import { HEAD_MARKER_CONTEXT } from "../../audit/head-mac.js";
import { appendAuditTx } from "./pg-audit.js";
import { LOCK } from "./pg-schema.js";
import { inTx } from "./pg-tx.js";
import { type RootSource, auditKeyOf } from "./root.js";

export interface InitOptions {
  readonly root: RootSource;
  readonly create?: boolean;
  readonly servicePrincipal?: string;
}

/** @throws KeystoreError(KEYSTORE_NOT_INITIALIZED | KEYSTORE_CORRUPT | MASTER_KEY_WRONG | MASTER_KEY_UNAVAILABLE | MASTER_KEY_INSECURE) */
export async function initOrCheck(pool: pg.Pool, options: InitOptions, now: () => number): Promise<RootKey> {
  return inTx(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK.init]);
    const meta = new Map((await c.query<{ key: string; value: string }>("SELECT key, value FROM meta")).rows.map((r) => [r.key, r.value]));
    const src = options.root;
    const check = meta.get("master_check");
    if (check === undefined) {
      if (options.create !== true) throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", "the key-service database is not initialised; open it with create: true");
      let root: RootKey;
      let source: string;
      if ("rootKey" in src) [root, source] = [src.rootKey, "external"];
      else if ("passphrase" in src) {
        const params = newScryptParams();
        await c.query("INSERT INTO meta (key, value) VALUES ('master_scrypt', $1)", [JSON.stringify(params)]);
        [root, source] = [MasterKey.fromRoot(await deriveFromPassphrase(src.passphrase, params)), "passphrase"];
      } else {
        const bytes = await loadMasterKeyFile(src.home).catch(async (e) => {
          if (isPipesealError(e) && e.code === "MASTER_KEY_UNAVAILABLE") return createMasterKeyFile(src.home);
          throw e;
        });
        [root, source] = [MasterKey.fromRoot(bytes), "file"];
      }
      await c.query("INSERT INTO meta (key, value) VALUES ('master_source', $1), ('master_check', $2)", [source, root.checkValue()]);
      // the init record marks the chain as one whose head is authenticated (src/audit/head-mac.ts)
      const init = { operation: "init", principal: options.servicePrincipal ?? "pipeseal-serve", outcome: "ok" as const, context: HEAD_MARKER_CONTEXT };
      await appendAuditTx(c, auditKeyOf(root).mac, init, now(), { genesis: true });
      return root;
    }
    let root: RootKey;
    if ("rootKey" in src) root = src.rootKey;
    else if ("passphrase" in src) {
      let params: ScryptParams;
      try {
        params = JSON.parse(meta.get("master_scrypt") ?? "null") as ScryptParams;
      } catch {
        throw new KeystoreError("KEYSTORE_CORRUPT", "the stored scrypt parameters are unreadable");
      }
      if (params === null || typeof params !== "object") throw new KeystoreError("MASTER_KEY_UNAVAILABLE", "this database is not protected by a passphrase");
      root = MasterKey.fromRoot(await deriveFromPassphrase(src.passphrase, params));
    } else root = MasterKey.fromRoot(await loadMasterKeyFile(src.home));
    if (!root.matches(check)) {
      root.close();
      throw new KeystoreError("MASTER_KEY_WRONG");
    }
    return root;
  });
}
