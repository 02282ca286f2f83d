/**
 * URL path → what it names under the root, refusing everything that is not a sealed file or
 * a folder inside the root: `..` and `.` (plain or percent-encoded), encoded slashes and
 * backslashes, NUL, hidden names (a leading dot, at any depth), symlinks whose target
 * leaves the root, and plaintext files. `ROOT/a/b.jsonl.pseal` is served at `/a/b.jsonl`.
 */
import { type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import path from "node:path";

export const SEALED_SUFFIX = ".pseal";

export type Target =
  | { readonly kind: "file"; readonly rel: string; readonly file: string; readonly stats: Stats }
  | { readonly kind: "dir"; readonly rel: string; readonly dir: string; readonly slash: boolean }
  | { readonly kind: "refused"; readonly status: 400 | 404; readonly why: string };

const refused = (status: 400 | 404, why: string): Target => ({ kind: "refused", status, why });

/** Decodes the path segments of a request target. Returns a refusal for anything unsafe. */
export function decodeSegments(rawPath: string): { segments: string[]; slash: boolean } | Target {
  if (!rawPath.startsWith("/") || rawPath.includes("\\")) return refused(400, "malformed path");
  const parts = rawPath.slice(1).split("/");
  const slash = parts.length > 0 && parts[parts.length - 1] === "";
  if (slash) parts.pop();
  const segments: string[] = [];
  for (const raw of parts) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return refused(400, "malformed percent-encoding");
    }
    if (s === "" || s === "." || s === ".." || /[/\\\0]/.test(s)) return refused(400, "path segment not allowed");
    if (s.startsWith(".")) return refused(404, "hidden name");
    segments.push(s);
  }
  return { segments, slash };
}

/** True if `real` lies inside `rootReal` and no segment of it below the root is hidden. */
export function insideRoot(rootReal: string, real: string): boolean {
  if (real === rootReal) return true;
  if (!real.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep)) return false;
  return !path
    .relative(rootReal, real)
    .split(path.sep)
    .some((s) => s.startsWith("."));
}

/** Resolves a request path against the (already real) root. Never throws for a missing file. */
export async function resolveTarget(rootReal: string, rawPath: string): Promise<Target> {
  const decoded = decodeSegments(rawPath);
  if ("kind" in decoded) return decoded;
  const rel = decoded.segments.join("/");
  const local = path.join(rootReal, ...decoded.segments);
  if (!decoded.slash && rel !== "") {
    const real = await realpath(local + SEALED_SUFFIX).catch(() => null);
    if (real !== null) {
      if (!insideRoot(rootReal, real)) return refused(404, "outside the root");
      const stats = await stat(real).catch(() => null);
      if (stats?.isFile()) return { kind: "file", rel, file: real, stats };
    }
  }
  const realDir = await realpath(local).catch(() => null);
  if (realDir === null || !insideRoot(rootReal, realDir)) return refused(404, "not found");
  const st = await stat(realDir).catch(() => null);
  if (!st?.isDirectory()) return refused(404, "not a sealed file");
  return { kind: "dir", rel, dir: realDir, slash: decoded.slash || rel === "" };
}
