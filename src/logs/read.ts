/**
 * Reading a log folder back: segments in order, each opened through the keyring (one
 * audited unwrap per segment). A segment whose key version was destroyed is reported as
 * shredded; any other failure is a LogSegmentError naming the file.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { PipesealError } from "../errors.js";
import { READ_CHUNK } from "../envelope/files.js";
import { openStream } from "../envelope/open.js";
import type { Keyring } from "../keys/keyring.js";
import { readManifest, scanFolder, type SegmentInfo } from "./layout.js";
import type { LogClass } from "./types.js";

/** A segment that could not be read; `code` is the cause's stable code, `file` the segment. */
export class LogSegmentError extends PipesealError {
  constructor(
    readonly file: string,
    cause: PipesealError,
  ) {
    super(cause.code, `log segment ${file}: ${cause.message}`, { cause });
  }
}

export interface ReadLogsOptions {
  /** Only segments that may hold records at or after this time (epoch ms), and records whose `time` is not earlier. */
  readonly since?: number;
  /** Only these classes (default both). */
  readonly classes?: readonly LogClass[];
}

export type LogReadEvent =
  | { readonly type: "record"; readonly cls: LogClass; readonly file: string; readonly line: string }
  | { readonly type: "shredded"; readonly cls: LogClass; readonly file: string; readonly keyName: string; readonly keyVersion: number };

/**
 * Yields the folder's records as JSON-lines text (without the newline), segment by segment in
 * opening order, and a `shredded` event for each segment whose key version was destroyed.
 * Records of a segment are released batch by batch, each only after it authenticates.
 * @example for await (const e of readLogs(keystore, "/var/log/app.sealed", { since: Date.now() - 3600_000 })) if (e.type === "record") console.log(e.line);
 * @throws LogSegmentError (DECRYPT_FAILED, MALFORMED_HEADER, KEY_*, …) naming the file; UsageError for a folder that is not a log.
 */
export async function* readLogs(keyring: Keyring, dir: string, options: ReadLogsOptions = {}): AsyncGenerator<LogReadEvent> {
  const root = path.resolve(dir);
  const manifest = await readManifest(root);
  const scan = await scanFolder(root, manifest);
  const bad = scan.unreadable.find((u) => !options.classes || options.classes.some((c) => u.file.startsWith(`${c}-`)));
  if (bad) throw new LogSegmentError(bad.file, new PipesealError("MALFORMED_HEADER", "not a segment of this log (bad or foreign header)"));
  const wanted = scan.segments
    .filter((s) => !options.classes || options.classes.includes(s.cls))
    .filter((s) => options.since === undefined || s.bucketEnd > options.since)
    .sort((a, b) => a.opened - b.opened || a.cls.localeCompare(b.cls) || a.seq - b.seq);
  for (const seg of wanted) yield* readSegment(keyring, seg, options.since);
}

async function* readSegment(keyring: Keyring, seg: SegmentInfo, since: number | undefined): AsyncGenerator<LogReadEvent> {
  let carry = "";
  try {
    for await (const chunk of openStream(keyring, createReadStream(seg.path, { highWaterMark: READ_CHUNK }), { path: seg.path })) {
      const lines = (carry + chunk.toString("utf8")).split("\n");
      chunk.fill(0);
      carry = lines.pop()!;
      for (const line of lines) if (line && keep(line, since)) yield { type: "record", cls: seg.cls, file: seg.file, line };
    }
  } catch (e) {
    if (e instanceof PipesealError && e.code === "KEY_DESTROYED") {
      yield { type: "shredded", cls: seg.cls, file: seg.file, keyName: seg.keyName, keyVersion: seg.keyVersion };
      return;
    }
    throw e instanceof PipesealError ? new LogSegmentError(seg.file, e) : e;
  }
  if (carry && keep(carry, since)) yield { type: "record", cls: seg.cls, file: seg.file, line: carry };
}

/** Record-level `since`: a record's `time` (epoch ms, as pino writes it, or an ISO string) when it has one. */
function keep(line: string, since: number | undefined): boolean {
  if (since === undefined) return true;
  try {
    const t = (JSON.parse(line) as { time?: unknown }).time;
    const ms = typeof t === "number" ? t : typeof t === "string" ? Date.parse(t) : NaN;
    return Number.isNaN(ms) || ms >= since;
  } catch {
    return true;
  }
}
