/**
 * The records of a query's input: CSV, JSONL, JSON or Parquet, plain or sealed. A sealed
 * input (`.pseal`, or any file starting with the sealed magic) is decrypted in memory through
 * the envelope's open path (its unwrap audited before any plaintext, as every decrypt is);
 * nothing is written to disk. The readers are the fields capability's (src/fields/formats).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { openStream } from "../envelope/open.js";
import { MAGIC } from "../envelope/header.js";
import { readChunks } from "../envelope/files.js";
import { type RecordFormat, type RowItem, formatOf, lineBatches, parseRec, readCsv, readJsonArray } from "../fields/formats/index.js";
import { openParquet } from "../fields/formats/parquet.js";
import type { Keyring } from "../keys/keyring.js";
import { PrivacyError } from "./errors.js";
import type { Rows } from "./collect.js";

export interface InputOptions {
  /** Opens sealed inputs; required for them. */
  readonly keyring?: Keyring;
  /** Default: from the extension (before `.pseal`). */
  readonly format?: RecordFormat;
}

/** Whether the file starts with the sealed-file magic. */
export async function isSealedFile(file: string): Promise<boolean> {
  const h = await open(file, "r");
  try {
    const buf = Buffer.alloc(MAGIC.length);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    return bytesRead === MAGIC.length && buf.equals(MAGIC);
  } finally {
    await h.close();
  }
}

/** The input's format, from --format or the name (`customers.csv.pseal` is CSV). @throws FieldError(INVALID_ARGUMENT) */
export function inputFormat(file: string, given?: RecordFormat): RecordFormat {
  return formatOf(file.replace(/\.pseal$/i, ""), given);
}

/**
 * The records of `file`, streamed (Parquet: read whole, it needs random access).
 * @throws PrivacyError(INVALID_ARGUMENT) for a sealed input without a keyring; FieldError for a
 *   malformed row (with its number); KeyError, AuditError, DecryptError from a sealed input.
 */
export async function* readInput(file: string, options: InputOptions = {}): Rows {
  const format = inputFormat(file, options.format);
  const abs = path.resolve(file);
  const sealed = await isSealedFile(abs);
  if (sealed && !options.keyring) throw new PrivacyError("INVALID_ARGUMENT", `${file} is sealed; a keystore is needed to open it`);
  const bytes = (): AsyncIterable<Buffer> =>
    sealed ? openStream(options.keyring as Keyring, readChunks(abs), { path: abs }) : createReadStream(abs, { highWaterMark: 1 << 20 });

  if (format === "parquet") {
    let source: string | Buffer = abs;
    if (sealed) {
      const parts: Buffer[] = [];
      for await (const c of bytes()) parts.push(c);
      source = Buffer.concat(parts);
      for (const p of parts) p.fill(0);
    }
    const { groups } = await openParquet(source);
    for await (const { rows, firstRow } of groups()) for (let i = 0; i < rows.length; i++) yield { row: firstRow + i, record: rows[i] };
    if (Buffer.isBuffer(source)) source.fill(0);
    return;
  }
  if (format === "jsonl") {
    let row = 0;
    for await (const lines of lineBatches(bytes())) {
      for (const line of lines) {
        row++;
        if (line.trim() === "") continue;
        yield unwrapItem(parseRec(line, row));
      }
    }
    return;
  }
  const items: AsyncIterable<RowItem> = format === "json" ? readJsonArray(Readable.from(bytes())) : readCsv(Readable.from(bytes()), false, () => undefined);
  for await (const item of items) yield unwrapItem(item);
}

function unwrapItem(item: RowItem): { row: number; record: Record<string, unknown> } {
  if (item.error) throw item.error;
  return { row: item.row, record: item.record };
}
