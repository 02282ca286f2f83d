/**
 * The on-disk layout of a log folder:
 *
 *   <dir>/log.json                               manifest (plaintext settings, no secrets)
 *   <dir>/<class>-<n, 8+ digits>.jsonl.pseal     closed segments (sealed files)
 *   <dir>/.pseal-tmp-<segment name>.<random>     the open segment (never read as a log)
 *   <dir>/.lock                                  the writer's pid while a sink is open
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { UsageError, isPipesealError } from "../errors.js";
import { inspectFile } from "../envelope/inspect.js";
import { once, TEMP_PREFIX, writeAtomic } from "../io/atomic.js";
import { validateKeyName } from "../keys/names.js";
import { type LogClass, LOG_CLASSES, DEFAULT_BUCKET_MS, DEFAULT_RETENTION_MS, classKeyName, isLogClass } from "./types.js";

export const MANIFEST_FILE = "log.json";
const SEGMENT_NAME = /^(payload|metadata)-(\d{8,})\.jsonl\.pseal$/;

export interface LogManifest {
  readonly format: 1;
  /** The log's name, bound into every segment's context as `stream`. */
  readonly stream: string;
  /** Base key name; class keys are `<keyName>/payload` and `<keyName>/metadata`. */
  readonly keyName: string;
  readonly bucketMs: number;
  readonly retentionMs: Readonly<Record<LogClass, number>>;
}

export const segmentName = (cls: LogClass, n: number): string => `${cls}-${String(n).padStart(8, "0")}.jsonl.pseal`;

/** A segment as its header describes it (read without a key; see docs/logs.md on trust). */
export interface SegmentInfo {
  readonly file: string;
  readonly path: string;
  readonly cls: LogClass;
  readonly seq: number;
  readonly keyName: string;
  readonly keyVersion: number;
  readonly opened: number;
  readonly bucketStart: number;
  readonly bucketEnd: number;
  /** True for an open (or crashed) segment's temp file. */
  readonly temp: boolean;
}

export interface FolderScan {
  readonly segments: SegmentInfo[];
  readonly temps: SegmentInfo[];
  /** Files that look like segments but whose header is not a log segment header. */
  readonly unreadable: { file: string; code: string }[];
  /** Highest segment number seen per class (temps included), 0 if none. */
  readonly lastSeq: Record<LogClass, number>;
}

/** Reads `log.json`. @throws UsageError(INVALID_ARGUMENT) when missing or malformed. */
export async function readManifest(dir: string): Promise<LogManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(dir, MANIFEST_FILE), "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const missing = code === "ENOENT" || code === "ENOTDIR"; // no folder, or a file named as one
    throw new UsageError(
      "INVALID_ARGUMENT",
      missing ? `${dir} is not a log folder (no ${MANIFEST_FILE})` : `${path.join(dir, MANIFEST_FILE)} is not valid JSON`,
    );
  }
  const m = raw as Partial<LogManifest>;
  const ok =
    m.format === 1 &&
    typeof m.stream === "string" &&
    typeof m.keyName === "string" &&
    isPositive(m.bucketMs) &&
    m.retentionMs !== undefined &&
    LOG_CLASSES.every((c) => isPositive(m.retentionMs?.[c]));
  if (!ok) throw new UsageError("INVALID_ARGUMENT", `${path.join(dir, MANIFEST_FILE)} is malformed`);
  validateKeyName(m.keyName);
  return m as LogManifest;
}

/** Creates the folder (0700) and writes or updates `log.json` atomically. A folder belongs to one key. */
export async function ensureManifest(
  dir: string,
  wanted: Omit<LogManifest, "format" | "retentionMs" | "bucketMs"> & Partial<Pick<LogManifest, "retentionMs" | "bucketMs">>,
): Promise<LogManifest> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const existing = await readManifest(dir).catch((e) => {
    if (isPipesealError(e) && e.message.includes(`no ${MANIFEST_FILE}`)) return undefined;
    throw e;
  });
  if (existing && existing.keyName !== wanted.keyName) {
    throw new UsageError("INVALID_ARGUMENT", `${dir} belongs to key ${existing.keyName}, not ${wanted.keyName}; one log folder, one log key`);
  }
  if (existing && existing.stream !== wanted.stream) {
    throw new UsageError("INVALID_ARGUMENT", `${dir} holds stream "${existing.stream}", not "${wanted.stream}"`);
  }
  const manifest: LogManifest = {
    format: 1,
    stream: wanted.stream,
    keyName: wanted.keyName,
    bucketMs: wanted.bucketMs ?? existing?.bucketMs ?? DEFAULT_BUCKET_MS,
    retentionMs: { ...DEFAULT_RETENTION_MS, ...existing?.retentionMs, ...wanted.retentionMs },
  };
  if (JSON.stringify(manifest) !== JSON.stringify(existing)) {
    await writeAtomic(path.join(dir, MANIFEST_FILE), once(Buffer.from(JSON.stringify(manifest, null, 2) + "\n")), 0o644);
  }
  return manifest;
}

/**
 * Lists the folder's segments and temp files from their headers (no key, no audit), in
 * (class, segment number) order. A file named like a segment whose header is not a log
 * segment of this manifest's key goes to `unreadable`.
 */
export async function scanFolder(dir: string, manifest: LogManifest): Promise<FolderScan> {
  const segments: SegmentInfo[] = [];
  const temps: SegmentInfo[] = [];
  const unreadable: { file: string; code: string }[] = [];
  const lastSeq: Record<LogClass, number> = { payload: 0, metadata: 0 };
  for (const file of (await readdir(dir)).sort()) {
    const temp = file.startsWith(TEMP_PREFIX);
    const name = temp ? file.slice(TEMP_PREFIX.length).replace(/\.[0-9a-f]+$/, "") : file;
    const m = SEGMENT_NAME.exec(name);
    if (!m) continue;
    const cls = m[1] as LogClass;
    const seq = Number(m[2]);
    lastSeq[cls] = Math.max(lastSeq[cls], seq);
    const info = await describeSegment(path.join(dir, file), file, cls, seq, temp, manifest).catch((e) => {
      if (!temp) unreadable.push({ file, code: isPipesealError(e) ? e.code : "IO_ERROR" });
      return undefined; // a temp file may not have its header on disk yet
    });
    if (info) (temp ? temps : segments).push(info);
  }
  return { segments, temps, unreadable, lastSeq };
}

async function describeSegment(p: string, file: string, cls: LogClass, seq: number, temp: boolean, manifest: LogManifest): Promise<SegmentInfo> {
  const h = await inspectFile(p);
  const c = h.context;
  const key = h.keys.find((k) => k.keyName === classKeyName(manifest.keyName, cls));
  const [start, end] = (c.bucket ?? "").split("/").map((t) => Date.parse(t));
  const opened = Date.parse(c.opened ?? "");
  if (
    c.kind !== "log" ||
    c.class !== cls ||
    c.stream !== manifest.stream ||
    c.segment !== String(seq) ||
    !key ||
    !isLogClass(c.class) ||
    !(start < end) ||
    Number.isNaN(opened)
  ) {
    throw new UsageError("INVALID_ARGUMENT", `${file} is not a segment of this log`);
  }
  return { file, path: p, cls, seq, keyName: key.keyName, keyVersion: key.keyVersion, opened, bucketStart: start, bucketEnd: end, temp };
}

function isPositive(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0;
}
