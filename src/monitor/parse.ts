/**
 * Reads `pipeseal.audit.v1` JSON lines exactly as `audit export` writes them
 * (src/audit/export.ts): one record per line, oldest first, seqs increasing. Anything else is
 * a MonitorError(MONITOR_INPUT_INVALID) naming the line — never a crash, never a guess.
 *
 * @example
 * for await (const r of readAuditRecords(createReadStream("audit.jsonl"))) engine.push(r);
 */
import { StringDecoder } from "node:string_decoder";
import { AUDIT_EXPORT_SCHEMA } from "../audit/export.js";
import { MonitorError } from "./errors.js";
import { isoTimeParser } from "./iso-time.js";
import type { MonitorRecord } from "./types.js";

const ISO_START = /^\d{4}-\d\d-\d\dT/;
const defaultTime = isoTimeParser();
/** Longer lines are refused: an export line is a few hundred bytes; this bounds memory on hostile input. */
export const MAX_LINE_BYTES = 1024 * 1024;

function bad(line: number, why: string): never {
  throw new MonitorError("MONITOR_INPUT_INVALID", `audit line ${line}: ${why}`);
}

function optString(o: Record<string, unknown>, field: string, line: number): string | null {
  const v = o[field];
  if (v === null) return null;
  if (typeof v !== "string") bad(line, `"${field}" must be a string or null`);
  return v;
}

function reqString(o: Record<string, unknown>, field: string, line: number): string {
  const v = o[field];
  if (typeof v !== "string" || v === "") bad(line, `"${field}" must be a non-empty string`);
  return v;
}

/**
 * One export line → a record.
 * @param parseTime a parser from {@link isoTimeParser} (a reader passes its own, to keep its cache).
 * @throws MonitorError(MONITOR_INPUT_INVALID) "audit line N: …" for anything that is not a v1 record.
 */
export function parseAuditLine(text: string, line: number, parseTime: (t: string) => number = defaultTime): MonitorRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    bad(line, "not JSON");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) bad(line, "not a JSON object");
  const o = v as Record<string, unknown>;
  if (o.schema !== AUDIT_EXPORT_SCHEMA) bad(line, `schema must be "${AUDIT_EXPORT_SCHEMA}"`);
  const seq = o.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) bad(line, '"seq" must be a positive integer');
  const time = reqString(o, "time", line);
  const timeMs = parseTime(time);
  if (!Number.isFinite(timeMs) || !ISO_START.test(time)) bad(line, '"time" must be an ISO 8601 time');
  const outcome = o.outcome;
  if (outcome !== "ok" && outcome !== "denied" && outcome !== "error") bad(line, '"outcome" must be ok, denied or error');
  const ctx = o.context;
  let context: Record<string, string> | null = null;
  if (ctx !== null && ctx !== undefined) {
    if (typeof ctx !== "object" || Array.isArray(ctx)) bad(line, '"context" must be an object of strings or null');
    // for…in, not Object.values: no array per record (JSON.parse objects have no inherited enumerable keys)
    for (const k in ctx) if (typeof (ctx as Record<string, unknown>)[k] !== "string") bad(line, '"context" values must be strings');
    context = ctx as Record<string, string>;
  }
  return {
    seq,
    timeMs,
    principal: reqString(o, "principal", line),
    operation: reqString(o, "operation", line),
    key: optString(o, "key", line),
    object: optString(o, "object", line),
    headerHash: optString(o, "headerHash", line),
    context,
    outcome,
    errorCode: optString(o, "errorCode", line),
  };
}

/** Bytes decoded at a time: V8 builds a string of a 1 MiB chunk several times slower than 16 of 64 KiB. */
const DECODE_BYTES = 64 * 1024;

/**
 * Splits export text into records, chunk by chunk, keeping line numbers and the seq order
 * across chunks. Synchronous per chunk: `monitor check` handles a chunk's records in one loop,
 * with no promise per record and no array of them.
 */
export class AuditLineReader {
  readonly #decoder = new StringDecoder("utf8");
  readonly #time = isoTimeParser();
  #rest = "";
  #line = 0;
  #lastSeq = 0;

  /** Hands `each` the records this chunk completes (a partial last line waits for the next chunk). */
  push(chunk: Buffer | string, each: (r: MonitorRecord) => void): void {
    if (typeof chunk === "string") return this.#text(chunk, each);
    for (let i = 0; i < chunk.length; i += DECODE_BYTES) this.#text(this.#decoder.write(chunk.subarray(i, i + DECODE_BYTES)), each);
  }

  /** End of input: the last line, if it had no newline. */
  end(each: (r: MonitorRecord) => void): void {
    const rest = this.#rest + this.#decoder.end();
    this.#rest = "";
    if (rest.length > 0) this.#take(rest, each);
  }

  #text(text: string, each: (r: MonitorRecord) => void): void {
    let start = 0;
    if (this.#rest.length > 0) {
      // only the carried-over line is joined: the chunk itself is never copied
      const nl = text.indexOf("\n");
      if (nl === -1) {
        this.#rest += text;
        if (this.#rest.length > MAX_LINE_BYTES) bad(this.#line + 1, `longer than ${MAX_LINE_BYTES} bytes`);
        return;
      }
      this.#take(this.#rest + text.slice(0, nl), each);
      this.#rest = "";
      start = nl + 1;
    }
    for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
      this.#take(text.slice(start, nl), each);
      start = nl + 1;
    }
    this.#rest = start === 0 ? text : text.slice(start);
    if (this.#rest.length > MAX_LINE_BYTES) bad(this.#line + 1, `longer than ${MAX_LINE_BYTES} bytes`);
  }

  #take(text: string, each: (r: MonitorRecord) => void): void {
    const line = ++this.#line;
    if (text.length === 0) return;
    const c = text.charCodeAt(0);
    if ((c <= 32 || c >= 128) && text.trim() === "") return; // blank (trim's whitespace is all below 33 or above 127; a record starts with "{")
    if (text.length > MAX_LINE_BYTES) bad(line, `longer than ${MAX_LINE_BYTES} bytes`);
    const r = parseAuditLine(text, line, this.#time);
    if (r.seq <= this.#lastSeq) bad(line, `seq ${r.seq} does not follow seq ${this.#lastSeq} (records must be in export order)`);
    this.#lastSeq = r.seq;
    each(r);
  }
}

/**
 * Records from a byte stream of export lines, in order, one array per chunk read. Blank lines are skipped.
 * @throws MonitorError(MONITOR_INPUT_INVALID) naming the line: malformed, too long, or a seq not above the one before.
 */
export async function* readAuditBatches(source: AsyncIterable<Buffer | string>): AsyncGenerator<MonitorRecord[]> {
  const reader = new AuditLineReader();
  let batch: MonitorRecord[] = [];
  const add = (r: MonitorRecord) => void batch.push(r);
  for await (const chunk of source) {
    reader.push(chunk, add);
    if (batch.length > 0) yield batch;
    batch = [];
  }
  reader.end(add);
  if (batch.length > 0) yield batch;
}

/**
 * Records from a byte stream of export lines, in order. Blank lines are skipped.
 * @throws MonitorError(MONITOR_INPUT_INVALID) naming the line: malformed, too long, or a seq not above the one before.
 */
export async function* readAuditRecords(source: AsyncIterable<Buffer | string>): AsyncGenerator<MonitorRecord> {
  for await (const batch of readAuditBatches(source)) yield* batch;
}
