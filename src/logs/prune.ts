/** `pruneLogs`: plan (pure, see prune-plan.ts), then apply: rotate, destroy key versions, delete files. */
import { open, unlink } from "node:fs/promises";
import path from "node:path";
import { KeyError } from "../errors.js";
import type { KeyInfo } from "../keys/key-info.js";
import { readManifest, scanFolder } from "./layout.js";
import { liveWriter } from "./lock.js";
import { planPrune, type PrunePlan } from "./prune-plan.js";
import { LOG_CLASSES, classKeyName, type LogClass, type LogPruneAdmin } from "./types.js";

export interface PruneOptions {
  /** Override the retention of every selected class (ms); default: each class's retention from log.json. */
  readonly olderThanMs?: number;
  /** Classes to prune (default both). */
  readonly classes?: readonly LogClass[];
  /** Plan only: change nothing. */
  readonly dryRun?: boolean;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
  /**
   * Records the prune (key destroys are audited by the keystore itself). Called after the
   * plan was applied; the CLI writes a `logs.prune` audit record through it.
   */
  readonly record?: (plan: PrunePlan, dir: string) => void;
}

export interface PruneResult {
  readonly dir: string;
  readonly dryRun: boolean;
  readonly plan: PrunePlan;
}

/**
 * Crypto-shreds a log folder's expired segments: destroys the class-key versions whose
 * segments are all expired (which makes every copy of those segments, backups included,
 * unopenable: KEY_DESTROYED), then deletes the files.
 * @example const { plan } = await pruneLogs(keystore, "/var/log/app.sealed", { olderThanMs: 7 * 86400_000, dryRun: true });
 * @throws UsageError (not a log folder), KeyError (KEY_STATE_CONFLICT if a key changed since it was planned), AuditError.
 */
export async function pruneLogs(admin: LogPruneAdmin, dir: string, options: PruneOptions = {}): Promise<PruneResult> {
  const root = path.resolve(dir);
  const manifest = await readManifest(root);
  const classes = options.classes ?? LOG_CLASSES;
  const keys: Partial<Record<LogClass, KeyInfo>> = {};
  for (const cls of classes) {
    try {
      keys[cls] = admin.showKey(classKeyName(manifest.keyName, cls));
    } catch (e) {
      if (!(e instanceof KeyError && e.code === "KEY_NOT_FOUND")) throw e;
    }
  }
  const retentionMs = options.olderThanMs === undefined ? manifest.retentionMs : { payload: options.olderThanMs, metadata: options.olderThanMs };
  const plan = planPrune({
    scan: await scanFolder(root, manifest),
    keys,
    retentionMs,
    classes,
    now: (options.now ?? Date.now)(),
    writerLive: (await liveWriter(root)) !== undefined,
  });
  if (!options.dryRun) await applyPrune(admin, root, plan, options.record);
  return { dir: root, dryRun: options.dryRun === true, plan };
}

/** Applies a plan in the one safe order: rotate, destroy, then delete (a crash in between is finished by the next prune). */
export async function applyPrune(admin: LogPruneAdmin, dir: string, plan: PrunePlan, record?: PruneOptions["record"]): Promise<void> {
  for (const r of plan.rotate) {
    if (admin.showKey(r.keyName).primaryVersion !== r.fromVersion)
      throw new KeyError("KEY_STATE_CONFLICT", `${r.keyName} was rotated since the prune was planned; run prune again`);
    admin.rotateKey(r.keyName);
  }
  for (const d of plan.destroy) admin.destroyVersion(d.keyName, d.version);
  for (const file of plan.delete) {
    await unlink(path.join(dir, file)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }
  if (plan.delete.length > 0) {
    const h = await open(dir, "r");
    await h.sync().catch(() => undefined);
    await h.close();
  }
  record?.(plan, dir);
}
