/** Lists the files of a model folder the way upstream serialization does: regular files only, no symlinks, ignored paths skipped. */
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { ArtifactError } from "../errors.js";

export interface ModelFile {
  /** POSIX path relative to the model root. */
  readonly name: string;
  readonly absolute: string;
  readonly size: number;
  /** Nanoseconds since the epoch. */
  readonly mtimeNs: bigint;
}

/** True when `rel` is one of `ignore` or lies under one (upstream `should_ignore`). */
export function isIgnored(rel: string, ignore: readonly string[]): boolean {
  return ignore.some((p) => rel === p || rel.startsWith(p.endsWith("/") ? p : p + "/"));
}

/**
 * Walks `root` depth first; returns files sorted by name.
 * @throws ArtifactError(INVALID_ARGUMENT) on a symlink or special file (allow_symlinks is false), or no files at all.
 */
export async function listModelFiles(root: string, ignore: readonly string[]): Promise<ModelFile[]> {
  const top = await lstat(root).catch(() => undefined);
  if (!top?.isDirectory()) throw new ArtifactError("INVALID_ARGUMENT", `${root} is not a folder`);
  const out: ModelFile[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (isIgnored(name, ignore)) continue;
      const absolute = path.join(dir, entry.name);
      if (entry.isSymbolicLink())
        throw new ArtifactError("INVALID_ARGUMENT", `${name} is a symbolic link; models may not contain symlinks (allow_symlinks: false)`);
      if (entry.isDirectory()) await visit(absolute, name);
      else if (entry.isFile()) {
        const st = await lstat(absolute, { bigint: true });
        out.push({ name, absolute, size: Number(st.size), mtimeNs: st.mtimeNs });
      } else throw new ArtifactError("INVALID_ARGUMENT", `${name} is not a regular file`);
    }
  };
  await visit(root, "");
  if (out.length === 0) throw new ArtifactError("INVALID_ARGUMENT", `${root} holds no files after exclusions`);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Turns user ignore paths (relative to the model, or absolute inside it) into POSIX relative paths. */
export function normalizeIgnore(root: string, paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const rel = path.isAbsolute(p) ? path.relative(path.resolve(root), p) : path.normalize(p);
    if (rel.startsWith("..") || path.isAbsolute(rel)) continue; // outside the model: nothing to ignore
    const posix = rel.split(path.sep).join("/").replace(/\/+$/, "");
    if (posix && posix !== ".") out.add(posix);
  }
  return [...out].sort();
}
