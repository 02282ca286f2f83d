/**
 * Record formats: readers yield `{ row, record }` (row is 1-based: the line for JSONL, the
 * element for JSON, the data row after the header for CSV, the row for Parquet); writers take
 * records back. JSONL, JSON and CSV stream; Parquet is read and written per row group.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
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
  const f = given ?? /\.(jsonl|ndjson|json|csv|parquet)$/i.exec(file)?.[1]?.toLowerCase().replace("ndjson", "jsonl");
  if (f === undefined) throw new FieldError("INVALID_ARGUMENT", `cannot tell the format of ${file}; pass --format ${FORMATS.join("|")}`);
  if (!(FORMATS as readonly string[]).includes(f)) throw new FieldError("INVALID_ARGUMENT", `unknown format "${f}" (one of ${FORMATS.join(", ")})`);
  return f as RecordFormat;
}

const isRec = (v: unknown): v is Rec => typeof v === "object" && v !== null && !Array.isArray(v);

function parseRec(text: string, row: number): RowItem {
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
    throw new FieldError("INVALID_ARGUMENT", `malformed CSV: ${(e as Error).message.split(":")[0]}`, { row: lines !== undefined ? Math.max(1, lines - 1) : row + 1 });
  }
}

export async function* writeJsonl(records: AsyncIterable<Rec>): AsyncGenerator<Buffer> {
  let batch = "";
  for await (const r of records) {
    batch += JSON.stringify(r, bigintSafe) + "\n";
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
    batch += (first ? "\n" : ",\n") + JSON.stringify(r, bigintSafe);
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
