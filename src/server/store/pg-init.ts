/**
 * Opening the PostgreSQL store's root key: on an empty database (with `create`), record the
 * root's source and check value and the `init` audit record; otherwise load the root from its
 * source and refuse a wrong one (MASTER_KEY_WRONG). Runs under an advisory lock, so replicas
 * starting together initialise the database exactly once.
 */
import type pg from "pg";
import { isPipesealError, KeystoreError } from "../../errors.js";
import { MasterKey, type ScryptParams, createMasterKeyFile, deriveFromPassphrase, loadMasterKeyFile, newScryptParams } from "../../keys/master-key.js";
import { KEY_STATE_META, SEAL_OPERATION, StateSeal, markerStripped, sealedBefore } from "../../keys/key-state.js";
import type { RootKey } from "../../keys/root-key.js";
import { INIT_CONTEXT } from "../../audit/head-mac.js";
import type { AuditRow } from "../../audit/schema.js";
import type { PoolClient } from "pg";
import { resealKey } from "../../keys/admin/key-rows.js";
import { runOnPg } from "./pg-key-statements.js";
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
      if (options.create !== true)
        throw new KeystoreError("KEYSTORE_NOT_INITIALIZED", "the key-service database is not initialised; open it with create: true");
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
      const seal = StateSeal.fromRoot(root);
      await c.query("INSERT INTO meta (key, value) VALUES ('master_source', $1), ('master_check', $2), ($3, $4)", [
        source,
        root.checkValue(),
        KEY_STATE_META,
        seal.marker(),
      ]);
      seal.close();
      // the init record marks what the store is born with: an authenticated head (src/audit/head-mac.ts), sealed key state
      const init = { operation: "init", principal: options.servicePrincipal ?? "pipeseal-serve", outcome: "ok" as const, context: INIT_CONTEXT };
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

/**
 * A database made before key-state MACs has its key rows sealed here, once, with the marker
 * and a `key.seal-state` record, as the local keystore does (src/keys/seal-legacy.ts); a
 * missing marker on a database that was sealed before is KEYSTORE_CORRUPT. Runs under the
 * init advisory lock, so replicas starting together seal it once, and after the chain head is
 * sealed (pg-seal.ts), since its record extends that head.
 * @throws KeystoreError(KEYSTORE_CORRUPT), AuditError(AUDIT_CHAIN_BROKEN)
 */
export async function sealKeyStatePg(pool: pg.Pool, root: RootKey, principal: string, nowMs: number): Promise<void> {
  await inTx(pool, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCK.init]);
    const marker = (await c.query<{ value: string }>("SELECT value FROM meta WHERE key = $1", [KEY_STATE_META])).rows[0]?.value ?? null;
    await ensureKeyStateSealedPg(c, root, marker, principal, nowMs);
  });
}

async function ensureKeyStateSealedPg(c: PoolClient, root: RootKey, marker: string | null, principal: string, nowMs: number): Promise<void> {
  const seal = StateSeal.fromRoot(root);
  try {
    if (seal.markerMatches(marker)) return;
    const init = (await c.query<AuditRow>("SELECT * FROM audit WHERE seq = 1")).rows[0];
    const sealRecord = (await c.query("SELECT 1 FROM audit WHERE operation = $1 LIMIT 1", [SEAL_OPERATION])).rows.length > 0;
    if (marker !== null || sealedBefore(init, (d) => root.auditMac(d), sealRecord)) throw markerStripped();
    const names = (await c.query<{ name: string }>("SELECT name FROM keys ORDER BY name")).rows.map((r) => r.name);
    for (const name of names) await runOnPg(c, resealKey(seal, name));
    await c.query("INSERT INTO meta (key, value) VALUES ($1, $2)", [KEY_STATE_META, seal.marker()]);
    await appendAuditTx(c, auditKeyOf(root).mac, { operation: SEAL_OPERATION, principal, outcome: "ok", context: { keys: String(names.length) } }, nowMs);
  } finally {
    seal.close();
  }
}
