/**
 * File-level runs: `apply`, `reveal`, `rewrap` over JSONL, JSON (array), CSV and Parquet,
 * from a file or stdin to a file (written atomically) or stdout.
 *
 * @example
 * const stats = await runFields("apply", { policy, keyring: ks, input: "customers.jsonl", output: "out.jsonl" });
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import { writeAtomic } from "../io/atomic.js";
import type { Keyring } from "../keys/keyring.js";
import { FieldError } from "./errors.js";
import {
  type RecordFormat,
  type Rec,
  type RowItem,
  formatOf,
  lineBatches,
  parseRec,
  readCsv,
  readJsonArray,
  stringifyRecord,
  writeCsv,
  writeJsonArray,
} from "./formats/index.js";
import { readAll, transformParquet } from "./formats/parquet.js";
import type { FieldPolicy } from "./policy.js";
import { type FieldOperation, FieldProtector } from "./protector.js";
import type { FieldStats } from "./stats.js";

export interface RunFieldsOptions {
  readonly policy: FieldPolicy;
  readonly keyring: Keyring;
  /** A path, or "-" for stdin. */
  readonly input: string;
  /** A path, or "-" for stdout (default). */
  readonly output?: string;
  /** Required for stdin; else taken from the input's extension. */
  readonly format?: RecordFormat;
  /** "fail" (default): the first bad row stops the run with its row number. "skip": counted in stats. */
  readonly onError?: "fail" | "skip";
  /** Where stdout goes (tests); default process.stdout. */
  readonly stdout?: NodeJS.WritableStream;
}

/** @throws FieldError (row-numbered), KeyError, AuditError. Output is left untouched on failure. */
export async function runFields(op: FieldOperation, o: RunFieldsOptions): Promise<FieldStats> {
  const format = formatOf(o.input, o.format);
  const flat = format === "csv" || format === "parquet";
  const objectPath = o.input === "-" ? undefined : path.resolve(o.input);
  const p = new FieldProtector(o.policy, o.keyring, op, { flat, object: { operation: `field-${op}`, ...(objectPath ? { path: objectPath } : {}) } });
  const skip = o.onError === "skip";
  try {
    await p.prepare();
    const one = async (rec: Rec, row: number): Promise<Rec | null> => {
      try {
        return await p.process(rec, row);
      } catch (e) {
        if (!skip || !(e instanceof FieldError)) throw e; // key, audit and I/O errors always stop the run
        p.skip(row, e);
        return null;
      }
    };
    const out = o.output ?? "-";
    const sink = async (chunks: AsyncIterable<Uint8Array>) => {
      if (out === "-") {
        const w = o.stdout ?? process.stdout;
        for await (const c of chunks) if (!w.write(c)) await new Promise((r) => w.once("drain", r));
      } else await writeAtomic(out, chunks, 0o600);
    };
    if (format === "parquet") {
      const src = o.input === "-" ? await readAll(process.stdin) : o.input;
      const typeFor = (col: string, original: string | undefined) => outputType(o.policy, op, col, original);
      const transform = async (rows: Rec[], first: number) => {
        const kept: Rec[] = [];
        for (let i = 0; i < rows.length; i++) {
          const r = await one(rows[i], first + i);
          if (r) kept.push(r);
        }
        return kept;
      };
      // row group in, row group out: written (atomically for files) as each one is encoded
      await sink(transformParquet(src, transform, typeFor as never));
      return p.stats;
    }
    const input = o.input === "-" ? process.stdin : createReadStream(o.input, { highWaterMark: 1 << 20 });
    if (format === "jsonl") {
      // the hot path: lines split per chunk; a line the policy can splice (top-level encrypt
      // rules) is changed in its text; others are parsed, processed without a promise unless a
      // key must be derived, and stringified; output batched. Same rows, errors and bytes as
      // readJsonl/writeJsonl. `general` gives undefined for a blank or skipped line.
      const failed = (row: number, e: unknown): undefined => {
        if (!skip || !(e instanceof FieldError)) throw e; // key, audit and I/O errors always stop the run
        p.skip(row, e);
        return undefined;
      };
      const general = (line: string, row: number): string | undefined | Promise<string | undefined> => {
        if (line.trim() === "") return undefined;
        const item = parseRec(line, row);
        if (item.error) return failed(item.row, item.error);
        try {
          const x = p.processNow(item.record, row);
          return x instanceof Promise ? x.then(stringifyRecord, (e: unknown) => failed(row, e)) : stringifyRecord(x);
        } catch (e) {
          return failed(row, e);
        }
      };
      // each output line is UTF-8-encoded straight into a 1 MiB batch (cheaper than one long
      // string encoded at the end); a file sink has written a batch before it asks for the
      // next, so the buffer is reused; stdout may still hold it, so it gets a new one
      const BATCH = 1 << 20;
      const reuse = out !== "-";
      const transformed = async function* (): AsyncGenerator<Buffer> {
        let row = 0;
        let buf = Buffer.allocUnsafe(BATCH);
        let off = 0;
        for await (const lines of lineBatches(input as AsyncIterable<Buffer>)) {
          for (const line of lines) {
            row++;
            let text = p.applyJsonLine(line, row) ?? general(line, row);
            if (text instanceof Promise) text = await text;
            if (text === undefined) continue;
            const most = 3 * text.length + 1; // UTF-8 bytes per UTF-16 unit ≤ 3
            if (off + most > buf.length) {
              if (off > 0) yield buf.subarray(0, off);
              if (!reuse || most > buf.length) buf = Buffer.allocUnsafe(Math.max(BATCH, most));
              off = 0;
            }
            off += buf.write(text, off, "utf8");
            buf[off++] = 0x0a;
          }
        }
        if (off > 0) yield buf.subarray(0, off);
      };
      await sink(transformed());
      return p.stats;
    }
    const items: AsyncIterable<RowItem> = format === "json" ? readJsonArray(input) : readCsv(input, skip, (row, e) => p.skip(row, e));
    async function* records(): AsyncGenerator<Rec> {
      for await (const item of items) {
        if (item.error) {
          if (!skip) throw item.error;
          p.skip(item.row, item.error);
          continue;
        }
        const r = await one(item.record, item.row);
        if (r) yield r;
      }
    }
    await sink(format === "json" ? writeJsonArray(records()) : writeCsv(records()));
    return p.stats;
  } finally {
    p.close();
  }
}

/** Parquet output column type for a column under the policy (undefined = keep the original). */
function outputType(policy: FieldPolicy, op: FieldOperation, col: string, original: string | undefined): string | undefined {
  const rule = policy.rules.find((r) => (r.field.hasWildcard ? r.field.flatGlob.test(col) : r.field.source === col));
  if (!rule) return undefined;
  if (op === "apply" && ["encrypt", "deterministic", "pseudonymize", "mask"].includes(rule.action)) return "STRING";
  if (op === "apply" && rule.action === "tokenize" && original !== "INT32" && original !== "INT64" && original !== "STRING") {
    throw new FieldError("INVALID_ARGUMENT", `column ${col} (${original ?? "unknown type"}) cannot be tokenized: only integer and string columns`);
  }
  if (op === "rewrap" && (rule.action === "encrypt" || rule.action === "deterministic")) return "STRING";
  return undefined; // reveal restores the recorded original; keep/tokenize keep it
}
