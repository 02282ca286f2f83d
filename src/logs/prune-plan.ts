/**
 * The prune plan: pure, data in and data out (so `--dry-run` is free). Rules (docs/logs.md):
 *
 * - A segment is expired when its bucket ended at least `retention` ago: every record in it
 *   was written inside the bucket, so nothing in it is younger than that.
 * - A class-key version is destroyed only when every segment under it in the folder is
 *   expired (and, while a writer is live, no open segment uses it). Versions hold one bucket
 *   each, so this destroys exactly the expired buckets.
 * - The primary version cannot be destroyed (the keystore refuses). When all its segments are
 *   expired and no writer is live, the plan rotates the key first; the writer then starts
 *   its next bucket on the fresh primary.
 * - Files are deleted only once their key version is destroyed (planned or earlier), so a
 *   deleted file always has its key gone too; an expired segment whose version must stay is
 *   listed in `kept` with the reason.
 * - Payload and metadata use different keys and retentions, so they are planned separately.
 */
import type { KeyInfo } from "../keys/key-info.js";
import type { FolderScan, SegmentInfo } from "./layout.js";
import type { LogClass } from "./types.js";

export interface PruneInput {
  readonly scan: FolderScan;
  /** The class keys' current state. */
  readonly keys: Readonly<Partial<Record<LogClass, KeyInfo>>>;
  readonly retentionMs: Readonly<Record<LogClass, number>>;
  readonly classes: readonly LogClass[];
  readonly now: number;
  /** A live process holds the folder's lock. */
  readonly writerLive: boolean;
}

export interface PlannedDestroy {
  readonly cls: LogClass;
  readonly keyName: string;
  readonly version: number;
  /** Segments (and a crashed writer's temp files) shredded by destroying this version. */
  readonly files: readonly string[];
}

export interface PrunePlan {
  readonly now: number;
  /** Class keys whose primary version is rotated away first so that it can be destroyed. */
  readonly rotate: readonly { cls: LogClass; keyName: string; fromVersion: number }[];
  readonly destroy: readonly PlannedDestroy[];
  /** File names deleted after the destroys: every file under a destroyed version. */
  readonly delete: readonly string[];
  /** Expired segments that are not shredded this time, and why. */
  readonly kept: readonly { file: string; keyVersion: number; reason: string }[];
}

export function planPrune(input: PruneInput): PrunePlan {
  const rotate: { cls: LogClass; keyName: string; fromVersion: number }[] = [];
  const destroy: PlannedDestroy[] = [];
  const del: string[] = [];
  const kept: { file: string; keyVersion: number; reason: string }[] = [];
  for (const cls of input.classes) {
    const key = input.keys[cls];
    if (!key) continue;
    const cutoff = input.now - input.retentionMs[cls];
    const expired = (s: SegmentInfo) => s.bucketEnd <= cutoff;
    const under = (list: readonly SegmentInfo[], v: number) => list.filter((s) => s.cls === cls && s.keyName === key.name && s.keyVersion === v);
    for (const v of key.versions) {
      const segs = under(input.scan.segments, v.version);
      const temps = under(input.scan.temps, v.version);
      const files = [...segs, ...temps].map((s) => s.file);
      if (v.state === "destroyed") {
        del.push(...files); // an earlier prune stopped between destroy and delete
        continue;
      }
      const young = segs.find((s) => !expired(s));
      const keep = (reason: string) => segs.filter(expired).forEach((s) => kept.push({ file: s.file, keyVersion: v.version, reason }));
      if (young) keep(`key version ${v.version} also protects ${young.file}, which is not expired`);
      else if (input.writerLive && temps.length > 0) keep(`a live writer has an open segment under key version ${v.version}`);
      else if (v.version === key.primaryVersion && (segs.length === 0 || input.writerLive))
        keep("the primary version stays while the writer is live; prune again when it has moved to a new bucket");
      else {
        if (v.version === key.primaryVersion) rotate.push({ cls, keyName: key.name, fromVersion: v.version });
        destroy.push({ cls, keyName: key.name, version: v.version, files });
        del.push(...files);
      }
    }
  }
  return { now: input.now, rotate, destroy, delete: del, kept };
}
