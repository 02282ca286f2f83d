/**
 * Training checkpoints: the registry push/pull path under the name `ckpt.<run>`, version =
 * step, with retention (keep the last N steps).
 *
 * Crypto-shredding: before each save the checkpoint key (default `checkpoints/<run>`,
 * dedicated to the run) is rotated, so each checkpoint's data keys are wrapped under a key
 * version of its own. Pruning deletes the old checkpoint folders, then destroys every key
 * version no remaining checkpoint uses (except the primary): copies of the deleted files
 * (backups, snapshots, a disk's free blocks) can then never be decrypted.
 */
import { isPipesealError } from "../errors.js";
import { ArtifactError } from "./errors.js";
import type { LocalKeystore } from "../keys/keystore.js";
import { readMeta } from "./registry/meta.js";
import { pullModel, type PullResult } from "./registry/pull-model.js";
import { pushModel, type PushResult } from "./registry/push.js";
import { checkRef, type RegistryStore, type VersionRef } from "./registry/store.js";
import type { Signer } from "./signing-keys.js";
import type { TrustPolicy } from "./trust.js";

export const checkpointName = (run: string): string => `ckpt.${run}`;
export const defaultCheckpointKey = (run: string): string => `checkpoints/${run.toLowerCase()}`;

export interface SaveCheckpointOptions {
  readonly run: string;
  readonly step: number;
  readonly signer: Signer;
  /** Default `checkpoints/<run>`; created when missing. Must not seal anything else (it is rotated and its old versions destroyed). */
  readonly keyName?: string;
  /** Keep the last N checkpoints of the run (by step); older ones are pruned. Default: keep all. */
  readonly keep?: number;
}

export interface PrunePlan {
  readonly remove: readonly VersionRef[];
  readonly destroyKeyVersions: readonly number[];
}

/** Steps of a run, oldest first. */
async function steps(store: RegistryStore, run: string): Promise<VersionRef[]> {
  const name = checkpointName(run);
  return (await store.listVersions()).filter((r) => r.name === name && /^\d+$/.test(r.version)).sort((a, b) => Number(a.version) - Number(b.version));
}

/** Pure plan: which checkpoints go, which key versions no survivor needs. */
export function planPrune(all: readonly { ref: VersionRef; keyVersions: readonly number[] }[], keep: number, primary: number): PrunePlan {
  const remove = all.slice(0, Math.max(0, all.length - keep));
  const kept = new Set(all.slice(remove.length).flatMap((c) => c.keyVersions));
  const destroy = new Set(remove.flatMap((c) => c.keyVersions).filter((v) => !kept.has(v) && v !== primary));
  return { remove: remove.map((c) => c.ref), destroyKeyVersions: [...destroy].sort((a, b) => a - b) };
}

/** Applies retention for a run. @returns what was removed and shredded. */
export async function pruneCheckpoints(
  ks: LocalKeystore,
  store: RegistryStore,
  run: string,
  keep: number,
  keyName = defaultCheckpointKey(run),
): Promise<PrunePlan> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError("keep must be a positive integer");
  const all = await Promise.all((await steps(store, run)).map(async (ref) => ({ ref, keyVersions: (await readMeta(store, ref)).encryptionKeyVersions })));
  const plan = planPrune(all, keep, ks.showKey(keyName).primaryVersion);
  for (const ref of plan.remove) await store.deleteVersion(ref);
  for (const v of plan.destroyKeyVersions) {
    const state = ks.showKey(keyName).versions.find((x) => x.version === v)?.state;
    if (state && state !== "destroyed") ks.destroyVersion(keyName, v);
  }
  if (plan.remove.length) {
    ks.auditedChange(
      {
        operation: "checkpoint.prune",
        keyName,
        objectPath: checkpointName(run),
        context: { removed: plan.remove.map((r) => r.version).join(","), shredded: plan.destroyKeyVersions.join(",") },
      },
      () => undefined,
    );
  }
  return plan;
}

/** Saves a checkpoint folder and applies retention. */
export async function saveCheckpoint(
  ks: LocalKeystore,
  store: RegistryStore,
  dir: string,
  options: SaveCheckpointOptions,
): Promise<PushResult & { pruned: PrunePlan }> {
  if (!Number.isSafeInteger(options.step) || options.step < 0) throw new RangeError("step must be a non-negative integer");
  const keyName = options.keyName ?? defaultCheckpointKey(options.run);
  const ref = checkRef({ name: checkpointName(options.run), version: String(options.step) });
  try {
    ks.createKey(keyName);
  } catch (e) {
    if (!isPipesealError(e) || e.code !== "KEY_EXISTS") throw e;
    ks.rotateKey(keyName); // a key version per checkpoint, so pruning can shred it
  }
  const pushed = await pushModel(ks, store, dir, ref, { keyName, signer: options.signer });
  const pruned = options.keep === undefined ? { remove: [], destroyKeyVersions: [] } : await pruneCheckpoints(ks, store, options.run, options.keep, keyName);
  return { ...pushed, pruned };
}

/** Loads a checkpoint (the latest step when `step` is absent) into `outDir`. */
export async function loadCheckpoint(
  ks: LocalKeystore,
  store: RegistryStore,
  run: string,
  outDir: string,
  options: { trust: TrustPolicy; step?: number },
): Promise<PullResult> {
  const all = await steps(store, run);
  const ref = options.step === undefined ? all.at(-1) : all.find((r) => Number(r.version) === options.step);
  if (!ref) {
    const kept = all.map((r) => r.version).join(", ") || "none";
    throw new ArtifactError(
      "ARTIFACT_NOT_FOUND",
      `${options.step === undefined ? "no checkpoint" : `no checkpoint at step ${options.step}`} for run ${run} (kept steps: ${kept}; pruned steps are crypto-shredded)`,
    );
  }
  return pullModel(ks, store, ref, outDir, { trust: options.trust });
}
