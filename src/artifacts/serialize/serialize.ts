/**
 * Model serialization: walk the folder, cut files into tasks (whole files, or shards of
 * `shardSize` bytes as upstream `_endpoints` does: [0,s), [s,2s), … the last one shorter;
 * an empty file has no shard), hash the tasks in parallel, and build the manifest.
 *
 * With `previous`, a file whose size and mtime equal those recorded in the previous manifest
 * keeps its previous digests without being read (`--incremental`). That trusts the
 * filesystem's mtime: content rewritten with the old mtime restored (cp -p, rsync -t,
 * touch -d) is not re-hashed. The caller must also have verified the previous manifest's
 * signature (signModel does, under the signing key itself).
 */
import { DEFAULT_IGNORE, compareResourceNames, type FileStat, type ModelManifest, type Resource, type Serialization } from "../manifest.js";
import { HashPool, type HashTask } from "./hash-pool.js";
import { listModelFiles, normalizeIgnore, type ModelFile } from "./walk.js";

export interface SerializeOptions {
  /** Shard size in bytes: serialization by shards; absent: by files. */
  readonly shardSize?: number;
  /** Paths (relative to the model) to leave out, on top of the git defaults. */
  readonly ignore?: readonly string[];
  /** Informative model name; default the folder's base name. */
  readonly modelName: string;
  /** A verified earlier manifest of the same folder, for incremental hashing. */
  readonly previous?: ModelManifest;
  /** A pool to reuse; by default one is made for this call and closed after. */
  readonly pool?: HashPool;
}

export interface SerializeResult {
  readonly manifest: ModelManifest;
  /** Bytes actually read and hashed (incremental runs skip unchanged files). */
  readonly bytesHashed: number;
  readonly filesHashed: number;
  readonly filesReused: number;
}

export function serializationFor(root: string, options: Pick<SerializeOptions, "shardSize" | "ignore">): Serialization {
  const ignore_paths = normalizeIgnore(root, [...DEFAULT_IGNORE, ...(options.ignore ?? [])]);
  return options.shardSize === undefined
    ? { method: "files", hash_type: "sha256", allow_symlinks: false, ignore_paths }
    : { method: "shards", hash_type: "sha256", shard_size: options.shardSize, allow_symlinks: false, ignore_paths };
}

/** Byte ranges a file is hashed in under `serialization`. */
export function rangesOf(size: number, serialization: Serialization): { start: number; end: number }[] {
  if (serialization.method === "files") return [{ start: 0, end: size }];
  const out: { start: number; end: number }[] = [];
  for (let start = 0; start < size; start += serialization.shard_size) out.push({ start, end: Math.min(size, start + serialization.shard_size) });
  return out;
}

const nameOf = (s: Serialization, file: string, r: { start: number; end: number }): string => (s.method === "files" ? file : `${file}:${r.start}:${r.end}`);

function sameSerialization(a: Serialization, b: Serialization): boolean {
  return a.method === b.method && (a.method === "files" || a.shard_size === (b as typeof a).shard_size);
}

/** Hashes a model folder into a manifest. @throws ArtifactError for symlinks, special files or an empty model. */
export async function serializeModel(root: string, options: SerializeOptions): Promise<SerializeResult> {
  if (options.shardSize !== undefined && !(Number.isSafeInteger(options.shardSize) && options.shardSize > 0)) {
    throw new RangeError("shardSize must be a positive integer");
  }
  const serialization = serializationFor(root, options);
  const files = await listModelFiles(root, serialization.ignore_paths);
  const reusable = reusableDigests(options.previous, serialization, files);
  const pool = options.pool ?? new HashPool();
  const resources: Promise<Resource>[] = [];
  let bytesHashed = 0;
  let filesHashed = 0;
  try {
    for (const f of files) {
      const kept = reusable.get(f.name);
      if (kept) {
        resources.push(...kept.map(async (r) => r));
        continue;
      }
      filesHashed++;
      for (const r of rangesOf(f.size, serialization)) {
        bytesHashed += r.end - r.start;
        const task: HashTask = { path: f.absolute, ...r };
        resources.push(pool.hash(task).then((digest) => ({ name: nameOf(serialization, f.name, r), algorithm: "sha256", digest })));
      }
    }
    const done = await Promise.all(resources);
    done.sort((a, b) => compareResourceNames(serialization.method, a.name, b.name));
    const stats: FileStat[] = files.map((f) => ({ name: f.name, size: f.size, mtime_ns: f.mtimeNs.toString() }));
    return {
      manifest: { modelName: options.modelName, serialization, resources: done, files: stats },
      bytesHashed,
      filesHashed,
      filesReused: files.length - filesHashed,
    };
  } finally {
    if (!options.pool) await pool.close();
  }
}

/** Per file: the previous manifest's resources, when size and mtime are unchanged and the serialization matches. */
function reusableDigests(previous: ModelManifest | undefined, s: Serialization, files: readonly ModelFile[]): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  if (!previous?.files || !sameSerialization(previous.serialization, s)) return out;
  const stat = new Map(previous.files.map((f) => [f.name, f]));
  const byFile = new Map<string, Resource[]>();
  for (const r of previous.resources) {
    const file = s.method === "files" ? r.name : r.name.replace(/:\d+:\d+$/, "");
    const list = byFile.get(file) ?? [];
    list.push(r);
    byFile.set(file, list);
  }
  for (const f of files) {
    const old = stat.get(f.name);
    const res = byFile.get(f.name) ?? [];
    const expected = rangesOf(f.size, s).map((r) => nameOf(s, f.name, r));
    if (old && old.size === f.size && old.mtime_ns === f.mtimeNs.toString() && expected.length === res.length && expected.every((n, i) => res[i]?.name === n)) {
      out.set(f.name, res);
    }
  }
  return out;
}
