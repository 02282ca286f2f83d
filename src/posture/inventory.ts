/**
 * The file inventory every file-based check reads: each file under a folder, glob or logs
 * store, with its size, age and — for sealed files — what its header says. Only headers are
 * read (open, read the first 4 KiB, more only if the header is longer, close); bodies never.
 * Built once per run (CheckContext.memo) and shared by the modules.
 */
import { closeSync, openSync, readSync, readdirSync, lstatSync } from "node:fs";
import path from "node:path";
import { isPipesealError } from "../errors.js";
import { FLOE_HEADER_LEN } from "../crypto/floe.js";
import { MAGIC, PRELUDE_LEN, decodeHeader, fixedPartLength, keyBlockLength, LIMITS } from "../envelope/header.js";
import { TEMP_PREFIX } from "../io/atomic.js";
import { MANIFEST_FILE } from "../logs/layout.js";
import { compileGlob } from "./glob.js";
import type { CheckContext, PipelineMap, StageId, StoreSpec } from "./types.js";

export interface SealedFacts {
  readonly keys: readonly { readonly keyring: string; readonly keyName: string; readonly keyVersion: number }[];
  readonly context: Readonly<Record<string, string>>;
}

/** Where a file found under a store sits, and its size and age. */
interface Located {
  readonly abs: string;
  /** Relative to the map's folder, `/`-separated (absolute if outside it). */
  readonly rel: string;
  readonly store: StoreSpec;
  readonly stage: StageId;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface FileEntry extends Located {
  /** sealed: the header parsed; malformed: PSEAL magic but the header does not parse; plaintext: anything else. */
  readonly kind: "sealed" | "malformed" | "plaintext" | "unreadable";
  readonly sealed?: SealedFacts;
  /** The error code for malformed / unreadable files. */
  readonly error?: string;
  /** Named like pipeseal's decrypt output: `x` beside `x.pseal`, or `*.dec` / `*.decrypted`. */
  readonly decryptedOutputName: boolean;
}

/** A pipeseal temp file (or a file inside a temp folder) under a store: an unfinished or interrupted write. */
export interface TempEntry extends Located {
  /** The temp file, or the temp folder holding the file. */
  readonly abs: string;
  /** Whether its first bytes are a sealed header (an encrypt's temp) or anything else (a decrypt's: plaintext). */
  readonly sealed: boolean;
}

export interface Inventory {
  readonly files: readonly FileEntry[];
  /** Temp files and folders (`.pseal-tmp-*`), kept out of `files`. */
  readonly temps: readonly TempEntry[];
  readonly byStore: ReadonlyMap<string, readonly FileEntry[]>;
  /** Store ids whose folder (or glob base) does not exist. */
  readonly missing: readonly string[];
  readonly bytesRead: number;
}

const FIRST_READ = 4096;
const MAX_HEADER = LIMITS.maxFixedPart + LIMITS.maxKeyBlock + FLOE_HEADER_LEN;
const FILE_STORES = new Set(["folder", "glob", "logs"]);

/** The run's inventory (built on first use, then shared). */
export function inventoryOf(ctx: CheckContext): Promise<Inventory> {
  const build = () => Promise.resolve(buildInventory(ctx.map, ctx.progress));
  return ctx.memo ? ctx.memo("inventory", build) : build();
}

export function relToMap(map: PipelineMap, abs: string): string {
  const rel = path.relative(map.baseDir, abs);
  return rel.startsWith("..") || path.isAbsolute(rel) ? abs : rel.split(path.sep).join("/");
}

export function buildInventory(map: PipelineMap, progress?: (n: number) => void): Inventory {
  const files: FileEntry[] = [];
  const temps = new Map<string, TempEntry>();
  const byStore = new Map<string, FileEntry[]>();
  const missing: string[] = [];
  const skipDirs = new Set([map.keys.home].filter((h): h is string => !!h));
  const buf = Buffer.alloc(FIRST_READ);
  let bytesRead = 0;
  for (const stage of map.stages) {
    for (const store of stage.stores) {
      if (!FILE_STORES.has(store.kind) || !store.path) continue;
      const glob = store.kind === "glob" ? compileGlob(store.path) : null;
      const base = glob ? glob.base : store.path;
      const list: FileEntry[] = [];
      byStore.set(store.id, list);
      if (!isDir(base)) {
        missing.push(store.id);
        continue;
      }
      walkDir(base, "", skipDirs, (abs, relInStore, names, st) => {
        const name = path.basename(abs);
        const inTemp = tempComponent(base, relInStore);
        if (inTemp) {
          // an atomic write (or open log segment) in progress, or one a SIGKILL interrupted
          const known = temps.get(inTemp);
          const head = known ? undefined : readHead(abs, buf);
          bytesRead += head?.bytes ?? 0;
          temps.set(inTemp, {
            abs: inTemp,
            rel: relToMap(map, inTemp),
            store,
            stage: stage.id,
            size: (known?.size ?? 0) + st.size,
            mtimeMs: Math.max(known?.mtimeMs ?? 0, st.mtimeMs),
            sealed: known ? known.sealed : head?.kind === "sealed",
          });
          return;
        }
        if (store.kind === "logs" && (name === MANIFEST_FILE || name === ".lock")) return;
        if (glob && !glob.match(relInStore)) return;
        const head = readHead(abs, buf);
        bytesRead += head.bytes;
        const entry: FileEntry = {
          abs,
          rel: relToMap(map, abs),
          store,
          stage: stage.id,
          size: st.size,
          mtimeMs: st.mtimeMs,
          kind: head.kind,
          ...(head.sealed ? { sealed: head.sealed } : {}),
          ...(head.error ? { error: head.error } : {}),
          decryptedOutputName: head.kind === "plaintext" && (/\.(dec|decrypted)$/i.test(name) || names.has(name + ".pseal")),
        };
        list.push(entry);
        files.push(entry);
        if (progress && files.length % 1000 === 0) progress(files.length);
      });
    }
  }
  progress?.(files.length);
  return { files, temps: [...temps.values()], byStore, missing, bytesRead };
}

/** The outermost `.pseal-tmp-*` component of a path under `base` (a temp file, or the temp folder it is in), or null. */
function tempComponent(base: string, relInStore: string): string | null {
  const parts = relInStore.split("/");
  const i = parts.findIndex((p) => p.startsWith(TEMP_PREFIX));
  return i < 0 ? null : path.join(base, ...parts.slice(0, i + 1));
}

function isDir(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

export type Visit = (abs: string, rel: string, siblings: ReadonlySet<string>, st: { size: number; mtimeMs: number }) => void;

/** Depth-first, name order, symbolic links never followed, `.git` and the keystore folder skipped. */
export function walkDir(dir: string, rel: string, skip: ReadonlySet<string>, visit: Visit): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(entries.map((e) => e.name));
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    const childRel = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name !== ".git" && !skip.has(abs)) walkDir(abs, childRel, skip, visit);
    } else if (e.isFile()) {
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        continue;
      }
      visit(abs, childRel, names, st);
    }
  }
}

/** Reads just enough of a file to tell sealed from not, and to parse a sealed header. */
export function readHead(abs: string, buf: Buffer): { kind: FileEntry["kind"]; sealed?: SealedFacts; error?: string; bytes: number } {
  let fd: number;
  try {
    fd = openSync(abs, "r");
  } catch (e) {
    return { kind: "unreadable", error: (e as NodeJS.ErrnoException).code ?? "EIO", bytes: 0 };
  }
  try {
    let n = readSync(fd, buf, 0, buf.length, 0);
    let bytes: Buffer = buf.subarray(0, n);
    if (n < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { kind: "plaintext", bytes: n };
    try {
      if (n < PRELUDE_LEN) return { kind: "malformed", error: "MALFORMED_HEADER", bytes: n };
      const fixed = fixedPartLength(bytes);
      const total = n >= fixed + 4 ? fixed + keyBlockLength(bytes, fixed) + FLOE_HEADER_LEN : MAX_HEADER;
      if (total > n) {
        const more = Buffer.alloc(Math.min(total, MAX_HEADER));
        n = readSync(fd, more, 0, more.length, 0);
        bytes = more.subarray(0, n);
      }
      const h = decodeHeader(bytes);
      return {
        kind: "sealed",
        sealed: { keys: h.wrappedKeys.map(({ keyring, keyName, keyVersion }) => ({ keyring, keyName, keyVersion })), context: h.context },
        bytes: n,
      };
    } catch (e) {
      return { kind: "malformed", error: isPipesealError(e) ? e.code : "MALFORMED_HEADER", bytes: n };
    }
  } catch (e) {
    return { kind: "unreadable", error: (e as NodeJS.ErrnoException).code ?? "EIO", bytes: 0 };
  } finally {
    closeSync(fd);
  }
}
