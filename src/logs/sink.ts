/**
 * The encrypted log sink: JSON-lines records → sealed segment files, one fresh data key per
 * segment, one log-key version per (class, time bucket). See docs/logs.md.
 */
import path from "node:path";
import { Writable } from "node:stream";
import { KeyError, UsageError } from "../errors.js";
import { ensureManifest, scanFolder, segmentName, type LogManifest } from "./layout.js";
import { lockFolder } from "./lock.js";
import { SegmentWriter } from "./segment-writer.js";
import { DEFAULT_MAX_BYTES, LOG_CLASSES, classKeyName, isLogClass, type LogClass, type LogKeyring } from "./types.js";

export type LogRecord = Readonly<Record<string, unknown>>;

/** How a record picks its retention class. */
export type Classification = LogClass | { readonly field?: string; readonly default?: LogClass } | ((record: LogRecord) => LogClass);

export interface LogSinkOptions {
  /** The log folder (created 0700). One folder holds one log, written by one sink at a time. */
  readonly dir: string;
  /** Base key name; the sink uses (and creates if missing) `<keyName>/payload` and `<keyName>/metadata`. */
  readonly keyName: string;
  /** The log's name in every segment's context (default: the key name's last part). */
  readonly stream?: string;
  /** Close a segment once it holds `maxBytes` plaintext (default 8 MiB) or is `maxAgeMs` old. */
  readonly rotate?: { readonly maxBytes?: number; readonly maxAgeMs?: number };
  /** Retention per class in ms (default payload 7 days, metadata 90 days); stored in log.json for prune. */
  readonly retention?: Partial<Record<LogClass, number>>;
  /** Key-version bucket length in ms (default one UTC day): the unit of crypto-shredding. */
  readonly bucketMs?: number;
  /** Default: the record's `class` field ("payload" | "metadata"); anything else is payload. */
  readonly classification?: Classification;
  /** Plaintext bytes per FLOE segment inside a file (default 64 KiB). */
  readonly segmentSize?: number;
  /** Clock in epoch ms (tests). Give it the keystore's clock too. */
  readonly now?: () => number;
  /** Check time-based rotation on a timer even when no records arrive (default: on unless `now` is given). */
  readonly timer?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes records into sealed, rotated, bucket-keyed segments.
 *
 * Durability: a record is on disk, readable, once its segment is closed (size, age, bucket
 * change, `flush()` or `close()`). Until then it exists only in this process's memory and in
 * the sealed temp file; a crash loses the open segment and nothing else.
 *
 * Security guarantees: plaintext never touches the disk; each segment has its own data key,
 * wrapped under the class key's version for the segment's bucket, with the context
 * `{ kind: "log", stream, class, segment, opened, bucket }` bound as associated data.
 */
export class LogSink {
  #open: Partial<Record<LogClass, SegmentWriter>> = {};
  #nextSeq: Record<LogClass, number>;
  #versionBucket: Record<LogClass, Map<number, number>>;
  #chain: Promise<unknown> = Promise.resolve();
  #failed: { error: unknown } | undefined; // boxed: whatever was thrown, even undefined, stops the sink
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly closedSegments: string[] = [];

  private constructor(
    private readonly keyring: LogKeyring,
    readonly manifest: LogManifest,
    readonly dir: string,
    private readonly options: LogSinkOptions,
    private readonly unlock: () => Promise<void>,
    nextSeq: Record<LogClass, number>,
    versionBucket: Record<LogClass, Map<number, number>>,
  ) {
    this.#nextSeq = nextSeq;
    this.#versionBucket = versionBucket;
    const maxAge = options.rotate?.maxAgeMs;
    if (options.timer ?? options.now === undefined) {
      this.#timer = setInterval(() => void this.rotateDue().catch(() => undefined), Math.min(maxAge ?? manifest.bucketMs, manifest.bucketMs, 60_000));
      this.#timer.unref();
    }
  }

  /**
   * @throws UsageError(INVALID_ARGUMENT) for bad options or a folder locked by a live writer;
   *   KeyError/AuditError from the keyring.
   */
  static async create(keyring: LogKeyring, options: LogSinkOptions): Promise<LogSink> {
    const { maxBytes, maxAgeMs } = options.rotate ?? {};
    for (const [name, v] of [
      ["rotate.maxBytes", maxBytes],
      ["rotate.maxAgeMs", maxAgeMs],
      ["bucketMs", options.bucketMs],
      ["retention.payload", options.retention?.payload],
      ["retention.metadata", options.retention?.metadata],
    ] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) throw new RangeError(`${name} must be a positive integer`);
    }
    const dir = path.resolve(options.dir);
    const stream = options.stream ?? options.keyName.split("/").pop()!;
    const manifest = await ensureManifest(dir, {
      stream,
      keyName: options.keyName,
      ...(options.bucketMs ? { bucketMs: options.bucketMs } : {}),
      ...(options.retention ? { retentionMs: { ...(options.retention as Record<LogClass, number>) } } : {}),
    });
    const unlock = await lockFolder(dir);
    try {
      for (const cls of LOG_CLASSES) ensureKey(keyring, classKeyName(manifest.keyName, cls));
      // what each class-key version was used for, from headers already on disk (temps too:
      // a crashed writer's lost segment still pins its version to its bucket)
      const scan = await scanFolder(dir, manifest);
      const versionBucket: Record<LogClass, Map<number, number>> = { payload: new Map(), metadata: new Map() };
      for (const s of [...scan.segments, ...scan.temps]) versionBucket[s.cls].set(s.keyVersion, s.bucketStart);
      const nextSeq = { payload: scan.lastSeq.payload + 1, metadata: scan.lastSeq.metadata + 1 };
      return new LogSink(keyring, manifest, dir, options, unlock, nextSeq, versionBucket);
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  /** Appends one record. Calls are applied in order. @throws TypeError for a non-object record. */
  write(record: LogRecord): Promise<void> {
    if (record === null || typeof record !== "object" || Array.isArray(record)) throw new TypeError("a log record must be a JSON object");
    const line = Buffer.from(JSON.stringify(record) + "\n", "utf8");
    const cls = this.#classify(record);
    return this.#run(() => this.#append(cls, line));
  }

  /** Appends one line of text: a JSON object is written as is; any other line as `{ "line": text }`. */
  writeLine(text: string): Promise<void> {
    const t = text.replace(/\r$/, "");
    if (t.trim() === "") return this.#run(async () => undefined);
    let record: LogRecord;
    try {
      const parsed: unknown = JSON.parse(t);
      record = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as LogRecord) : { line: t };
    } catch {
      record = { line: t };
    }
    return this.write(record);
  }

  /** Closes segments that reached their maximum age or whose bucket has ended. */
  rotateDue(): Promise<void> {
    return this.#run(async () => {
      const t = this.#now();
      for (const cls of LOG_CLASSES) if (this.#due(cls, t)) await this.#closeSegment(cls);
    });
  }

  /** Closes the open segments now, so everything written so far is durable and readable. */
  flush(): Promise<void> {
    return this.#run(async () => {
      for (const cls of LOG_CLASSES) await this.#closeSegment(cls);
    });
  }

  /** Flushes, stops the timer and releases the folder lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.#chain.then(() => undefined);
    const done = this.flush();
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    try {
      await done;
    } finally {
      await this.unlock();
    }
  }

  /**
   * A Writable for loggers: accepts record objects, or strings/Buffers of JSON lines (a pino
   * destination: `pino(sink.writable())`). Ending it closes the sink.
   */
  writable(): Writable {
    let carry = "";
    const lines = (text: string) => {
      const parts = (carry + text).split("\n");
      carry = parts.pop()!;
      return parts;
    };
    return new Writable({
      objectMode: true,
      write: (chunk: unknown, _enc, cb) => {
        const work =
          typeof chunk === "string" || Buffer.isBuffer(chunk)
            ? Promise.all(lines(chunk.toString()).map((l) => this.writeLine(l)))
            : this.write(chunk as LogRecord);
        work.then(() => cb(), cb);
      },
      final: (cb) => {
        const rest = carry;
        carry = "";
        this.writeLine(rest)
          .then(() => this.close())
          .then(() => cb(), cb);
      },
    });
  }

  #run(op: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new UsageError("INVALID_ARGUMENT", "the log sink is closed"));
    const next = this.#chain.then(async () => {
      if (this.#failed) throw this.#failed.error;
      try {
        await op();
      } catch (e) {
        this.#failed = { error: e }; // a lost segment must not be followed silently by later records
        throw e;
      }
    });
    this.#chain = next.catch(() => undefined);
    return next;
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  #bucketOf(t: number): number {
    return Math.floor(t / this.manifest.bucketMs) * this.manifest.bucketMs;
  }

  #due(cls: LogClass, t: number): boolean {
    const seg = this.#open[cls];
    if (!seg) return false;
    const maxAge = this.options.rotate?.maxAgeMs;
    return this.#bucketOf(t) !== seg.bucketStart || (maxAge !== undefined && t - seg.openedAt >= maxAge);
  }

  async #append(cls: LogClass, line: Buffer): Promise<void> {
    const t = this.#now();
    if (this.#due(cls, t)) await this.#closeSegment(cls);
    const seg = this.#open[cls] ?? (await this.#openSegment(cls, t));
    seg.push(line);
    if (seg.bytes >= (this.options.rotate?.maxBytes ?? DEFAULT_MAX_BYTES)) await this.#closeSegment(cls);
  }

  /** Opens a segment in `t`'s bucket, first rotating the class key if its primary served another bucket. */
  async #openSegment(cls: LogClass, t: number): Promise<SegmentWriter> {
    const keyName = classKeyName(this.manifest.keyName, cls);
    const bucket = this.#bucketOf(t);
    const used = this.#versionBucket[cls].get(this.keyring.showKey(keyName).primaryVersion);
    if (used !== undefined && used !== bucket) this.keyring.rotateKey(keyName);
    const seq = this.#nextSeq[cls]++;
    const context = {
      kind: "log",
      stream: this.manifest.stream,
      class: cls,
      segment: String(seq),
      opened: iso(t),
      bucket: `${iso(bucket)}/${iso(bucket + this.manifest.bucketMs)}`,
    };
    const seg = await SegmentWriter.open(this.keyring, path.join(this.dir, segmentName(cls, seq)), keyName, context, t, bucket, this.options.segmentSize);
    this.#versionBucket[cls].set(seg.keyVersion, bucket);
    this.#open[cls] = seg;
    return seg;
  }

  async #closeSegment(cls: LogClass): Promise<void> {
    const seg = this.#open[cls];
    if (!seg) return;
    delete this.#open[cls];
    await seg.close();
    this.closedSegments.push(seg.name);
  }

  #classify(record: LogRecord): LogClass {
    const c = this.options.classification;
    if (typeof c === "function") {
      const cls = c(record);
      if (!isLogClass(cls)) throw new TypeError(`classification returned ${String(cls)}, not "payload" or "metadata"`);
      return cls;
    }
    if (isLogClass(c)) return c;
    const value = record[c?.field ?? "class"];
    return isLogClass(value) ? value : (c?.default ?? "payload");
  }
}

/** Opens a log sink (see {@link LogSink}). @example
 * const sink = await createLogSink(keystore, { dir: "/var/log/app.sealed", keyName: "logs/app", rotate: { maxAgeMs: 3600_000 } });
 * await sink.write({ class: "metadata", route: "/v1/chat", latencyMs: 212 });
 * await sink.write({ class: "payload", prompt: "…", completion: "…" });
 * await sink.close();
 * @throws UsageError, KeyError, AuditError.
 */
export const createLogSink = (keyring: LogKeyring, options: LogSinkOptions): Promise<LogSink> => LogSink.create(keyring, options);

function ensureKey(keyring: LogKeyring, name: string): void {
  try {
    keyring.showKey(name);
  } catch (e) {
    if (!(e instanceof KeyError && e.code === "KEY_NOT_FOUND")) throw e;
    keyring.createKey(name);
  }
}
