/**
 * Record formats: readers yield `{ row, record }` (row is 1-based: the line for JSONL, the
 * element for JSON, the data row after the header for CSV, the row for Parquet); writers take
 * records back. JSONL, JSON and CSV stream; Parquet is read and written per row group.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify";
import { FieldError } from "../errors.js";
import { jsonArrayElements } from "./json-array.js";

export const FORMATS = ["jsonl", "json", "csv", "parquet"] as const;
export type RecordFormat = (typeof FORMATS)[number];

export type Rec = Record<string, unknown>;
/** A record, or a row that could not be parsed (reported with its row number). */
export type RowItem = { row: number; record: Rec; error?: undefined } | { row: number; record?: undefined; error: FieldError };

/** The format from `--format` or the file extension. @throws FieldError(INVALID_ARGUMENT) */
export function formatOf(file: string, given?: string): RecordFormat {
  if (file === "-") file = "stdin";
  const f = given ?? /\.(jsonl|ndjson|json|csv|parquet)$/i.exec(file)?.[1]?.toLowerCase().replace("ndjson", "jsonl");
  if (f === undefined) throw new FieldError("INVALID_ARGUMENT", `cannot tell the format of ${file}; pass --format ${FORMATS.join("|")}`);
  if (!(FORMATS as readonly string[]).includes(f)) throw new FieldError("INVALID_ARGUMENT", `unknown format "${f}" (one of ${FORMATS.join(", ")})`);
  return f as RecordFormat;
}

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseRec(text: string, row: number): RowItem {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { row, error: new FieldError("INVALID_ARGUMENT", "not valid JSON", { row }) };
  }
  return isRec(v) ? { row, record: v } : { row, error: new FieldError("INVALID_ARGUMENT", "a record must be a JSON object", { row }) };
}

export async function* readJsonl(input: NodeJS.ReadableStream): AsyncGenerator<RowItem> {
  let row = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    row++;
    if (line.trim() === "") continue;
    yield parseRec(line, row);
  }
}

const LINE_BREAK = /\r?\n|\r(?!\n)/;

/**
 * The lines of a byte stream, split as `readJsonl` splits them (readline with crlfDelay
 * Infinity: "\r\n", "\n" or a lone "\r" ends a line; a last line without a break counts),
 * but handed out as one array per input chunk, so a run pays no promise per line. A test
 * checks it against readline on awkward inputs.
 */
export async function* lineBatches(input: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for await (const chunk of input) {
    const text = rest + (typeof chunk === "string" ? chunk : decoder.write(chunk));
    // a trailing "\r" may be the first half of "\r\n": decided with the next chunk
    const end = text.endsWith("\r") ? text.length - 1 : text.length;
    const last = end === 0 ? -1 : Math.max(text.lastIndexOf("\n", end - 1), text.lastIndexOf("\r", end - 1));
    if (last < 0) {
      rest = text;
      continue;
    }
    const lines = text.slice(0, last + 1).split(LINE_BREAK);
    lines.pop(); // the empty string after the last break
    rest = text.slice(last + 1);
    yield lines;
  }
  const tail = rest + decoder.end();
  if (tail.length > 0) {
    const lines = tail.split(LINE_BREAK);
    if (lines[lines.length - 1] === "") lines.pop();
    yield lines;
  }
}

export async function* readJsonArray(input: NodeJS.ReadableStream): AsyncGenerator<RowItem> {
  let row = 0;
  for await (const el of jsonArrayElements(input as AsyncIterable<Buffer>)) yield parseRec(el, ++row);
}

export async function* readCsv(input: NodeJS.ReadableStream, skipBad: boolean, onSkip: (row: number, e: FieldError) => void): AsyncGenerator<RowItem> {
  const parser = (input as Readable).pipe(
    parse({
      columns: true,
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: skipBad,
      on_skip: (err) => {
        const row = Math.max(1, ((err as { lines?: number })?.lines ?? 2) - 1);
        onSkip(row, new FieldError("INVALID_ARGUMENT", `malformed CSV row: ${(err as Error)?.message?.split(":")[0] ?? "error"}`, { row }));
      },
    }),
  );
  let row = 0;
  try {
    for await (const rec of parser) yield { row: ++row, record: rec as Rec };
  } catch (e) {
    const lines = (e as { lines?: number }).lines;
    throw new FieldError("INVALID_ARGUMENT", `malformed CSV: ${(e as Error).message.split(":")[0]}`, {
      row: lines !== undefined ? Math.max(1, lines - 1) : row + 1,
    });
  }
}

/**
 * JSON.stringify(r, bigintSafe) without calling the replacer for every key: records rarely hold
 * a bigint (only Parquet INT64 and revealed "i" values), and stringify throws on one, so the
 * plain call is tried first. Same text either way (the replacer changes nothing but bigints).
 */
export function stringifyRecord(r: Rec): string {
  try {
    return JSON.stringify(r);
  } catch (e) {
    if (e instanceof TypeError) return JSON.stringify(r, bigintSafe);
    throw e;
  }
}

export async function* writeJsonl(records: AsyncIterable<Rec>): AsyncGenerator<Buffer> {
  let batch = "";
  for await (const r of records) {
    batch += stringifyRecord(r) + "\n";
    if (batch.length > 1 << 16) {
      yield Buffer.from(batch);
      batch = "";
    }
  }
  if (batch) yield Buffer.from(batch);
}

export async function* writeJsonArray(records: AsyncIterable<Rec>): AsyncGenerator<Buffer> {
  let batch = "[";
  let first = true;
  for await (const r of records) {
    batch += (first ? "\n" : ",\n") + stringifyRecord(r);
    first = false;
    if (batch.length > 1 << 16) {
      yield Buffer.from(batch);
      batch = "";
    }
  }
  yield Buffer.from(batch + (first ? "]\n" : "\n]\n"));
}

export async function* writeCsv(records: AsyncIterable<Rec>): AsyncGenerator<Buffer> {
  const out = stringify({ header: true, cast: { bigint: (v: bigint) => v.toString(), boolean: (v: boolean) => String(v) } });
  const feed = (async () => {
    try {
      for await (const r of records) if (!out.write(r)) await new Promise((res) => out.once("drain", res));
      out.end();
    } catch (e) {
      out.destroy(e as Error);
    }
  })();
  for await (const chunk of out) yield Buffer.from(chunk as string);
  await feed;
}

/** JSON has no bigint: Parquet INT64 values are written as numbers when safe, else as strings. */
function bigintSafe(_k: string, v: unknown): unknown {
  if (typeof v !== "bigint") return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}
