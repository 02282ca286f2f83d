/**
 * Parquet through hyparquet (read) and hyparquet-writer (write), one row group at a time.
 * Flat schemas only. Column types are kept where the action allows: keep, tokenize (an integer
 * column stays integer) and reveal restore the original type; encrypt, deterministic,
 * pseudonymize and mask make a STRING column. The original types are recorded in the file's
 * key-value metadata (`pipeseal.fields.types`) so reveal can restore them.
 */
import { readFile } from "node:fs/promises";
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type SchemaElement } from "hyparquet";
import { asyncBufferFromFile } from "hyparquet/src/node.js";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { fileWriter } from "hyparquet-writer/src/node.js";
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
 * Streams a Parquet file through `transform` row group by row group into `output`
 * (a path, or null to return the bytes).
 * `typeFor(column, original, op)` gives the output type of a column (undefined = unchanged).
 */
export async function transformParquet(
  input: string | Buffer,
  output: string | null,
  transform: (rows: Rec[], firstRow: number) => Promise<Rec[]>,
  typeFor: (column: string, original: BasicType | undefined) => BasicType | undefined,
): Promise<Buffer | null> {
  const file = await bufferOf(input);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new FieldError("INVALID_ARGUMENT", `not a readable Parquet file: ${(e as Error).message}`);
  }
  const root = metadata.schema[0]!;
  const top = metadata.schema.slice(1);
  if (top.length !== (root.num_children ?? 0) || top.some((e) => (e.num_children ?? 0) > 0)) {
    throw new FieldError("INVALID_ARGUMENT", "nested Parquet schemas are not supported (flatten the columns first)");
  }
  const recorded = JSON.parse(metadata.key_value_metadata?.find((kv) => kv.key === TYPES_KEY)?.value ?? "{}") as Record<string, BasicType>;
  const original = new Map(top.map((e) => [e.name, recorded[e.name] ?? basicType(e)]));
  const bw = output === null ? new ByteWriter() : fileWriter(output);
  let writer: ParquetWriter | null = null;
  let columns: string[] = [];
  let row = 0;
  const groups = metadata.row_groups.length === 0 ? [] : metadata.row_groups;
  const emit = (rows: Rec[]) => {
    if (writer === null) {
      columns = top.map((e) => e.name).filter((n) => rows.length === 0 || Object.hasOwn(rows[0]!, n));
      const types: Record<string, string> = {};
      for (const c of columns) if (original.get(c)) types[c] = original.get(c)!;
      writer = new ParquetWriter({ writer: bw, schema: schemaFor(columns, (c) => typeFor(c, original.get(c)) ?? original.get(c)) as never, kvMetadata: [{ key: TYPES_KEY, value: JSON.stringify(types) }] });
    }
    if (rows.length === 0) return;
    writer.write({ columnData: columns.map((c) => ({ name: c, data: rows.map((r) => (r[c] === undefined ? null : r[c])) as unknown[] as never })), rowGroupSize: rows.length });
  };
  for (const g of groups) {
    const n = Number(g.num_rows);
    const rows = (await parquetReadObjects({ file, metadata, rowStart: row, rowEnd: row + n })) as Rec[];
    emit(await transform(rows, row + 1));
    row += n;
  }
  if (writer === null) emit([]);
  await (writer as unknown as ParquetWriter).finish();
  return output === null ? Buffer.from((bw as ByteWriter).getBuffer()) : null;
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
