/**
 * Reads one file and decides whether it is text worth scanning. Binary is git's heuristic: a NUL
 * byte in the first 8000 bytes (UTF-16 text therefore counts as binary). Files above the size cap
 * are never read.
 *
 * Reads are synchronous on purpose: the scanner handles one file at a time, and a synchronous
 * read skips the thread-pool round trips (open, fstat, read, close) that dominated wall time on
 * trees of many small files.
 */
import { readFileSync } from "node:fs";

export type Classified = { readonly type: "text"; readonly text: string } | { readonly type: "binary" } | { readonly type: "too-large"; readonly size: number };

const SNIFF = 8000;

export function isBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

/** `size` is the size seen by the walk; a file that grew past the cap since is caught after reading. */
export function classify(abs: string, size: number, maxFileSize: number): Classified {
  if (size > maxFileSize) return { type: "too-large", size };
  const bytes = readFileSync(abs);
  if (bytes.length > maxFileSize) return { type: "too-large", size: bytes.length };
  if (isBinary(bytes)) return { type: "binary" };
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM is not a column
  return { type: "text", text };
}
