/**
 * createRedactStream: a Node Transform that redacts any text stream line by line, for any
 * logger or pipe. Memory stays flat: only the current partial line is buffered, and a line
 * longer than `maxLineLength` is cut and redacted in pieces (a match spanning a cut can be
 * missed; the default 8 MiB is far above any sane log line).
 */
import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { Redactor, type RedactOptions } from "./redactor.js";

export interface RedactStreamOptions extends RedactOptions {
  /** Characters (default 8 Mi). */
  readonly maxLineLength?: number;
}

export interface RedactStream extends Transform {
  /** The redactor doing the work (stats live here). */
  readonly redactor: Redactor;
}

/**
 * @example
 * process.stdin.pipe(createRedactStream({ operators: { default: "redact" } })).pipe(process.stdout);
 * @throws UsageError for a bad policy (unknown operator, hash without key, encrypt without keyring).
 */
export function createRedactStream(options: RedactStreamOptions = {}): RedactStream {
  const redactor = new Redactor(options);
  const max = options.maxLineLength ?? 8 * 1024 * 1024;
  const decoder = new StringDecoder("utf8");
  let pending = "";

  const run = async (text: string): Promise<string | null> => (redactor.isAsync ? redactor.redactChunkAsync(text) : redactor.redactChunk(text));

  /** Redacts the complete lines in `text` in one pass; keeps the unfinished last line in `pending`. */
  const work = async (text: string, final: boolean): Promise<string> => {
    const out: string[] = [];
    const cut = text.lastIndexOf("\n");
    if (cut >= 0) {
      const r = await run(text.slice(0, cut));
      if (r !== null) out.push(r + "\n");
    }
    pending = text.slice(cut + 1);
    while (pending.length > max) {
      const piece = pending.slice(0, max);
      pending = pending.slice(max);
      const r = await run(piece);
      if (r !== null) out.push(r);
    }
    if (final && pending.length > 0) {
      const r = await run(pending);
      if (r !== null) out.push(r);
      pending = "";
    }
    return out.join("");
  };

  const stream = new Transform({
    transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback) {
      const text = pending + (typeof chunk === "string" ? chunk : decoder.write(chunk));
      work(text, false).then(
        (s) => cb(null, s.length > 0 ? s : undefined),
        (e: unknown) => cb(e as Error),
      );
    },
    flush(cb: TransformCallback) {
      work(pending + decoder.end(), true).then(
        (s) => cb(null, s.length > 0 ? s : undefined),
        (e: unknown) => cb(e as Error),
      );
    },
  }) as RedactStream;
  Object.defineProperty(stream, "redactor", { value: redactor, enumerable: true });
  return stream;
}
