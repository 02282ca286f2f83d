/**
 * Folder listings for loaders that glob: an HTML index of `href`s (what fsspec's
 * HTTPFileSystem.ls parses) or, with `?format=json`, a JSON one with each sealed object's
 * plaintext size, ETag, key, version and context. Built from headers only (no key, no
 * audit): sizes come from the file length and are authenticated only when the object is
 * opened (HEAD/GET). Hidden names, plaintext files and symlinks leaving the root are left out.
 */
import type { Dirent } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { inspectFile } from "../envelope/inspect.js";
import type { EncryptionContext } from "../keys/keyring.js";
import { SEALED_SUFFIX, insideRoot } from "./resolve.js";
import { validators } from "./validators.js";

/** Largest number of entries one listing returns (a folder with more is cut, and says so). */
export const MAX_LISTING = 10_000;

export type ListingEntry =
  | { readonly name: string; readonly type: "directory" }
  | {
      readonly name: string;
      readonly type: "file";
      readonly size: number;
      readonly etag: string;
      readonly lastModified: string;
      readonly key: string;
      readonly version: number;
      readonly context: EncryptionContext;
    };

export interface Listing {
  /** URL path of the folder, with a trailing slash. */
  readonly path: string;
  readonly entries: ListingEntry[];
  readonly truncated: boolean;
}

/** `visible(rel, context?)` filters by policy: folders are asked without a context. */
export async function listFolder(
  rootReal: string,
  dirReal: string,
  urlPath: string,
  visible: (rel: string, context?: EncryptionContext) => boolean,
): Promise<Listing> {
  const relDir = path.relative(rootReal, dirReal).split(path.sep).filter(Boolean).join("/");
  const dirents: Dirent[] = await readdir(dirReal, { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const entries: ListingEntry[] = [];
  let truncated = false;
  for (const d of dirents) {
    if (d.name.startsWith(".")) continue;
    if (entries.length >= MAX_LISTING) {
      truncated = true;
      break;
    }
    const full = path.join(dirReal, d.name);
    const real = await realpath(full).catch(() => null);
    if (real === null || !insideRoot(rootReal, real)) continue;
    const st = await stat(real).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) {
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      if (visible(rel)) entries.push({ name: `${d.name}/`, type: "directory" });
      continue;
    }
    if (!st.isFile() || !d.name.endsWith(SEALED_SUFFIX) || d.name.length === SEALED_SUFFIX.length) continue;
    const name = d.name.slice(0, -SEALED_SUFFIX.length);
    if (name.startsWith(".")) continue;
    const info = await inspectFile(real).catch(() => null);
    if (!info) continue; // not a sealed file after all: never listed, never served
    const rel = relDir ? `${relDir}/${name}` : name;
    if (!visible(rel, info.context)) continue;
    const v = validators(info.headerHash, st.mtimeMs);
    const k = info.keys[0];
    entries.push({
      name,
      type: "file",
      size: info.plaintextLength,
      etag: v.etag,
      lastModified: v.lastModified,
      key: k.keyName,
      version: k.keyVersion,
      context: info.context,
    });
  }
  return { path: urlPath.endsWith("/") ? urlPath : `${urlPath}/`, entries, truncated };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hrefOf = (base: string, name: string) =>
  base +
  name
    .split("/")
    .map((p) => (p === "" ? "" : encodeURIComponent(p)))
    .join("/");

/** The HTML index: absolute hrefs, so they resolve the same with or without a trailing slash in the request. */
export function listingHtml(l: Listing): string {
  const rows = l.entries.map(
    (e) => `<li><a href="${escapeHtml(hrefOf(l.path, e.name))}">${escapeHtml(e.name)}</a>${e.type === "file" ? ` ${e.size}` : ""}</li>`,
  );
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>Index of ${escapeHtml(l.path)}</title></head>\n<body><h1>Index of ${escapeHtml(l.path)}</h1>\n<ul>\n${rows.join("\n")}\n</ul>${l.truncated ? `\n<p>truncated at ${MAX_LISTING} entries</p>` : ""}\n</body></html>\n`;
}

export function listingJson(l: Listing): string {
  return JSON.stringify({ path: l.path, truncated: l.truncated, entries: l.entries });
}
