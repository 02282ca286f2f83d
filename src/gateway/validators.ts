/**
 * Validators and conditional requests (RFC 9110 §8.8, §13): the ETag is the sealed object's
 * id (SHA-256 of its fixed header and FLOE header: it names one exact encryption and
 * survives rewrap, whose plaintext is the same), Last-Modified the file's mtime.
 */
export interface Validators {
  readonly etag: string;
  readonly lastModified: string;
  readonly mtimeMs: number;
}

export function validators(headerHash: string, mtimeMs: number): Validators {
  return { etag: `"${headerHash}"`, lastModified: new Date(Math.floor(mtimeMs / 1000) * 1000).toUTCString(), mtimeMs };
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, "");

/** If-None-Match / If-Modified-Since on GET or HEAD: true means answer 304. */
export function notModified(v: Validators, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): boolean {
  if (ifNoneMatch !== undefined) {
    // §13.1.2: weak comparison; If-Modified-Since is ignored when If-None-Match is present
    return ifNoneMatch.split(",").some((t) => t.trim() === "*" || opaque(t) === v.etag);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return Number.isFinite(since) && Math.floor(v.mtimeMs / 1000) * 1000 <= since;
  }
  return false;
}

/** If-Range (§13.1.5): honour the Range only if the validator still matches (strong comparison for tags). */
export function rangeStillValid(v: Validators, ifRange: string | undefined): boolean {
  if (ifRange === undefined) return true;
  const t = ifRange.trim();
  if (t.startsWith('"') || t.startsWith("W/")) return t === v.etag;
  return t === v.lastModified;
}

const TYPES: Record<string, string> = {
  jsonl: "application/jsonl",
  ndjson: "application/x-ndjson",
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  tsv: "text/tab-separated-values; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  parquet: "application/vnd.apache.parquet",
  arrow: "application/vnd.apache.arrow.file",
  tar: "application/x-tar",
  gz: "application/gzip",
  zst: "application/zstd",
  zip: "application/zip",
  npy: "application/octet-stream",
  safetensors: "application/octet-stream",
  onnx: "application/octet-stream",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  wav: "audio/wav",
};

/**
 * Content-Type from the plaintext name. Types a browser would run (HTML, SVG, JS) are not
 * mapped: they go out as application/octet-stream, with nosniff, so served data never
 * becomes active content in a browser.
 */
export function contentTypeFor(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && TYPES[name.slice(dot + 1).toLowerCase()]) || "application/octet-stream";
}
