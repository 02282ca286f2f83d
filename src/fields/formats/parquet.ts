/**
 * Parquet through hyparquet (read) and hyparquet-writer (write), streamed one row group at a time.
 * Flat schemas only. Column types are kept where the action allows: keep, tokenize (an integer
 * column stays integer) and reveal restore the original type; encrypt, deterministic,
 * pseudonymize and mask make a STRING column. The original types are recorded in the file's
 * key-value metadata (`pipeseal.fields.types`) so reveal can restore them.
 */
import { readFile } from "node:fs/promises";
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData, type SchemaElement } from "hyparquet";
import { asyncBufferFromFile } from "hyparquet/src/node.js";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { FieldError } from "../errors.js";
import type { Rec } from "./index.js";

const TYPES_KEY = "pipeseal.fields.types";
type BasicType = "BOOLEAN" | "INT32" | "INT64" | "FLOAT" | "DOUBLE" | "STRING" | "BYTE_ARRAY";

function basicType(e: SchemaElement): BasicType | undefined {
  if (e.type === "BYTE_ARRAY") return e.converted_type === "UTF8" || e.logical_type?.type === "STRING" ? "STRING" : "BYTE_ARRAY";
  if (e.type === "INT32" && (e.converted_type === undefined || e.converted_type === "INT_32")) return "INT32";
  if (e.type === "INT64" && (e.converted_type === undefined || e.converted_type === "INT_64")) return "INT64";
  if (e.type === "BOOLEAN" || e.type === "FLOAT" || e.type === "DOUBLE") return e.type;
  return undefined;
}

async function bufferOf(input: string | Buffer): Promise<AsyncBuffer> {
  if (typeof input === "string") return asyncBufferFromFile(input);
  const ab = input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer;
  return { byteLength: ab.byteLength, slice: (s: number, e?: number) => ab.slice(s, e) };
}

/**
 * Opens a flat Parquet file: its columns, their original types (as recorded by an earlier
 * apply, else from the schema) and its rows one row group at a time (row numbers 1-based).
 * @throws FieldError(INVALID_ARGUMENT) for an unreadable file or a nested schema
 */
export async function openParquet(input: string | Buffer) {
  const file = await bufferOf(input);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new FieldError("INVALID_ARGUMENT", `not a readable Parquet file: ${(e as Error).message}`);
  }
  const root = metadata.schema[0];
  const top = metadata.schema.slice(1);
  if (top.length !== (root.num_children ?? 0) || top.some((e) => (e.num_children ?? 0) > 0)) {
    throw new FieldError("INVALID_ARGUMENT", "nested Parquet schemas are not supported (flatten the columns first)");
  }
  const recorded = JSON.parse(metadata.key_value_metadata?.find((kv) => kv.key === TYPES_KEY)?.value ?? "{}") as Record<string, BasicType>;
  const original = new Map(top.map((e) => [e.name, recorded[e.name] ?? basicType(e)]));
  async function* groups(): AsyncGenerator<{ rows: Rec[]; firstRow: number }> {
    let row = 0;
    for (const g of metadata.row_groups) {
      const n = Number(g.num_rows);
      const rows = (await parquetReadObjects({ file, metadata, rowStart: row, rowEnd: row + n })) as Rec[];
      yield { rows, firstRow: row + 1 };
      row += n;
    }
  }
  return { top, original, groups };
}

/**
 * Streams a Parquet file through `transform` row group by row group: each input row group is
 * read, transformed and encoded as one output row group, whose bytes are handed out before the
 * next group is read. Memory is one row group (input rows, output rows, encoded bytes) plus the
 * footer's page indexes, whatever the file size. The input needs random access (the footer
 * comes first), so stdin is read whole by the caller.
 * `typeFor(column, original)` gives the output type of a column (undefined = unchanged).
 * @throws FieldError(INVALID_ARGUMENT) for an unreadable file or a nested schema
 */
export async function* transformParquet(
  input: string | Buffer,
  transform: (rows: Rec[], firstRow: number) => Promise<Rec[]>,
  typeFor: (column: string, original: BasicType | undefined) => BasicType | undefined,
): AsyncGenerator<Uint8Array> {
  const { top, original, groups } = await openParquet(input);
  // ByteWriter keeps `offset` (file position, used for column chunk offsets) apart from
  // `index` (position in its buffer), so the buffer can be drained between row groups
  const bw = new ByteWriter();
  const drain = (): Uint8Array => {
    const bytes = new Uint8Array(bw.buffer, 0, bw.index).slice();
    bw.index = 0;
    return bytes;
  };
  let writer: ParquetWriter | null = null;
  let columns: string[] = [];
  // write() returns a promise when the byte writer flushes asynchronously: awaited, so its failure fails the transform
  const emit = (rows: Rec[]): void | Promise<void> => {
    if (writer === null) {
      columns = top.map((e) => e.name).filter((n) => rows.length === 0 || Object.hasOwn(rows[0], n));
      const types: Record<string, string> = {};
      for (const c of columns) if (original.get(c)) types[c] = original.get(c)!;
      writer = new ParquetWriter({
        writer: bw,
        schema: schemaFor(columns, (c) => typeFor(c, original.get(c)) ?? original.get(c)) as never,
        kvMetadata: [{ key: TYPES_KEY, value: JSON.stringify(types) }],
      });
    }
    if (rows.length === 0) return;
    return writer.write({
      columnData: columns.map((c) => ({ name: c, data: rows.map((r) => (r[c] === undefined ? null : r[c])) as unknown[] as never })),
      rowGroupSize: rows.length,
    });
  };
  for await (const { rows, firstRow } of groups()) {
    await emit(await transform(rows, firstRow));
    yield drain();
  }
  if (writer === null) await emit([]);
  await (writer as unknown as ParquetWriter).finish();
  yield drain();
}

function schemaFor(columns: string[], type: (c: string) => BasicType | undefined): SchemaElement[] {
  const els: SchemaElement[] = [{ name: "root", num_children: columns.length }];
  for (const c of columns) {
    const t = type(c) ?? "STRING";
    const base: SchemaElement = { name: c, repetition_type: "OPTIONAL" };
    if (t === "STRING") els.push({ ...base, type: "BYTE_ARRAY", converted_type: "UTF8" });
    else els.push({ ...base, type: t });
  }
  return els;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

export { readFile };
