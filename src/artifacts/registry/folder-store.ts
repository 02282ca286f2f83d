/**
 * A registry in a folder (local or mounted):
 *
 * ```
 * REG/<name>/<version>/signature.json   the DSSE bundle (plaintext: digests and file names)
 * REG/<name>/<version>/meta.json        who pushed, keys, object → path map
 * REG/<name>/<version>/objects/N.pseal  one sealed file per model file
 * REG/.staging/…                        pushes in progress (never read)
 * REG/.trash/…                          versions being deleted
 * REG/.log/pulls.jsonl                  who pulled what, when
 * ```
 *
 * Publication: files are written into `.staging/<name>@<version>.<random>/`, each fsynced,
 * the folders fsynced, then the whole folder is renamed to `<name>/<version>` and the parent
 * fsynced. rename(2) is atomic and fails onto a non-empty folder, so a version appears
 * complete or not at all, and two pushes of one version cannot both win. A killed push leaves
 * only sealed bytes under `.staging` (inert; safe to delete).
 */
import { randomBytes } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { writeAll } from "../../io/atomic.js";
import { ArtifactError } from "../errors.js";
import { checkRef, REF_PATTERN, type RegistryStore, type StagedVersion, type VersionRef } from "./store.js";

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, "r").catch(() => undefined);
  if (!h) return;
  await h.sync().catch(() => undefined);
  await h.close();
}

const SAFE_FILE = /^(?:objects\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkFile(file: string): string {
  if (!SAFE_FILE.test(file)) throw new ArtifactError("INVALID_ARGUMENT", `bad registry file name ${JSON.stringify(file.slice(0, 60))}`);
  return file;
}

export class FolderRegistry implements RegistryStore {
  readonly location: string;
  constructor(root: string) {
    this.location = path.resolve(root);
  }

  private dirOf(ref: VersionRef): string {
    checkRef(ref);
    return path.join(this.location, ref.name, ref.version);
  }

  async listVersions(): Promise<VersionRef[]> {
    const out: VersionRef[] = [];
    const names = await readdir(this.location, { withFileTypes: true }).catch(() => []);
    for (const n of names) {
      if (!n.isDirectory() || !REF_PATTERN.test(n.name)) continue;
      for (const v of await readdir(path.join(this.location, n.name), { withFileTypes: true })) {
        if (v.isDirectory() && REF_PATTERN.test(v.name)) out.push({ name: n.name, version: v.name });
      }
    }
    const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : NaN);
    return out.sort((a, b) =>
      a.name !== b.name ? (a.name < b.name ? -1 : 1) : num(a.version) - num(b.version) || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0),
    );
  }

  async readSmall(ref: VersionRef, file: string): Promise<Buffer | null> {
    return readFile(path.join(this.dirOf(ref), checkFile(file))).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
  }

  openObject(ref: VersionRef, file: string): AsyncIterable<Buffer> {
    return createReadStream(path.join(this.dirOf(ref), checkFile(file)), { highWaterMark: 1 << 20 });
  }

  /** The local path of a stored object (folder stores only; for random-access readers). */
  objectPath(ref: VersionRef, file: string): string {
    return path.join(this.dirOf(ref), checkFile(file));
  }

  async begin(ref: VersionRef): Promise<StagedVersion> {
    const target = this.dirOf(ref);
    if (
      await stat(target).then(
        () => true,
        () => false,
      )
    )
      throw new ArtifactError("ARTIFACT_EXISTS", `${ref.name}@${ref.version} already exists in ${this.location}`);
    const staging = path.join(this.location, ".staging", `${ref.name}@${ref.version}.${randomBytes(6).toString("hex")}`);
    await mkdir(path.join(staging, "objects"), { recursive: true, mode: 0o700 });
    let done = false;
    return {
      async write(file, chunks) {
        const handle = await open(path.join(staging, checkFile(file)), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
        let n = 0;
        try {
          for await (const c of chunks) n += await writeAll(handle, c);
          await handle.sync();
        } finally {
          await handle.close();
        }
        return n;
      },
      async commit() {
        if (done) throw new ArtifactError("INVALID_ARGUMENT", "this push was already committed or aborted");
        await syncDir(path.join(staging, "objects"));
        await syncDir(staging);
        await mkdir(path.dirname(target), { recursive: true });
        try {
          await rename(staging, target); // the publication point
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "ENOTEMPTY" || code === "EEXIST")
            throw new ArtifactError("ARTIFACT_EXISTS", `${ref.name}@${ref.version} already exists in the registry`);
          throw e;
        }
        done = true;
        await syncDir(path.dirname(target));
      },
      async abort() {
        done = true;
        await rm(staging, { recursive: true, force: true });
      },
    };
  }

  async deleteVersion(ref: VersionRef): Promise<void> {
    const trash = path.join(this.location, ".trash");
    await mkdir(trash, { recursive: true });
    const moved = path.join(trash, `${ref.name}@${ref.version}.${randomBytes(6).toString("hex")}`);
    await rename(this.dirOf(ref), moved);
    await syncDir(path.join(this.location, ref.name));
    await rm(moved, { recursive: true, force: true });
  }

  async appendLog(record: Readonly<Record<string, unknown>>): Promise<void> {
    const dir = path.join(this.location, ".log");
    await mkdir(dir, { recursive: true });
    await appendFile(path.join(dir, "pulls.jsonl"), JSON.stringify(record) + "\n", { flag: "a" });
  }

  async readLog(): Promise<Record<string, unknown>[]> {
    const text = await readFile(path.join(this.location, ".log", "pulls.jsonl"), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return []; // a torn last line after a crash
        }
      });
  }
}
