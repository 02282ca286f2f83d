/**
 * Walks the scan paths: folders depth-first in name order, `.gitignore` rules honoured at every
 * level (and those of the enclosing repository above the starting folder), `.git/` skipped,
 * symbolic links never followed. Yields files one at a time so memory stays flat. Folder reads
 * are synchronous for the same reason as file reads (classify.ts): no thread-pool round trips.
 */
import { lstatSync, readFileSync, readdirSync, type Dirent } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import type { ScanNote } from "./types.js";

export type WalkEntry = { readonly type: "file"; readonly abs: string; readonly size: number } | { readonly type: "note"; readonly note: ScanNote };

/** One folder's `.gitignore`: its rules apply to paths relative to `dir`. */
interface Rules {
  readonly dir: string;
  readonly ig: Ignore;
}

function loadRules(dir: string): Rules | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(dir, ".gitignore"), "utf8");
  } catch {
    return undefined;
  }
  return { dir, ig: ignore().add(text) };
}

/**
 * Git semantics: the deepest `.gitignore` that says anything about a path wins, and a negation
 * (`!keep.txt`) can re-include what an outer file excluded.
 */
function isIgnored(abs: string, isDir: boolean, stack: readonly Rules[]): boolean {
  let ignored = false;
  for (const { dir, ig } of stack) {
    const rel = path.relative(dir, abs).split(path.sep).join("/") + (isDir ? "/" : "");
    const r = ig.test(rel);
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}

/** The `.gitignore` files between the repository root (the nearest folder above holding `.git`) and `start`, outermost first. */
async function enclosingRules(start: string): Promise<Rules[]> {
  const hasGit = (dir: string) =>
    lstat(path.join(dir, ".git")).then(
      () => true,
      () => false,
    );
  if (await hasGit(start)) return [];
  const chain: string[] = [];
  for (let dir = path.dirname(start); ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (await hasGit(dir)) break;
    if (path.dirname(dir) === dir) return []; // not inside a repository: outer .gitignores do not apply
  }
  const rules = chain.map(loadRules);
  return rules.filter((r): r is Rules => r !== undefined);
}

async function* walkDir(dir: string, stack: Rules[], gitignore: boolean, rel: (abs: string) => string): AsyncGenerator<WalkEntry> {
  const here = gitignore ? loadRules(dir) : undefined;
  const rules = here ? [...stack, here] : stack;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    yield { type: "note", note: { path: rel(dir), kind: "unreadable", message: `folder not readable (${(e as NodeJS.ErrnoException).code ?? "error"})` } };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    if (e.isSymbolicLink()) {
      yield { type: "note", note: { path: rel(abs), kind: "symlink", message: "symbolic link not followed" } };
      continue;
    }
    if (e.isDirectory()) {
      if (e.name === ".git") continue;
      if (gitignore && isIgnored(abs, true, rules)) continue;
      yield* walkDir(abs, rules, gitignore, rel);
    } else if (e.isFile()) {
      if (gitignore && isIgnored(abs, false, rules)) continue;
      let size: number;
      try {
        size = lstatSync(abs).size;
      } catch {
        continue; // vanished since the folder was read
      }
      yield { type: "file", abs, size };
    }
  }
}

/**
 * Every regular file under `paths` (a path may name a file or a folder). A path that does not
 * exist throws the `ENOENT` error of `lstat`; a file named explicitly is scanned even if ignored.
 * Relative paths are resolved against `root`.
 */
export async function* walk(paths: readonly string[], options: { root: string; gitignore: boolean; rel: (abs: string) => string }): AsyncGenerator<WalkEntry> {
  for (const p of paths) {
    const abs = path.resolve(options.root, p);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) {
      yield { type: "note", note: { path: options.rel(abs), kind: "symlink", message: "symbolic link not followed" } };
    } else if (st.isDirectory()) {
      const outer = options.gitignore ? await enclosingRules(abs) : [];
      if (options.gitignore && outer.length && isIgnored(abs, true, outer)) continue;
      yield* walkDir(abs, outer, options.gitignore, options.rel);
    } else if (st.isFile()) {
      yield { type: "file", abs, size: st.size };
    }
  }
}
