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
import type { MonitorRecord } from "./types.js";

const OUTCOMES = new Set(["ok", "denied", "error"]);
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
 * @throws MonitorError(MONITOR_INPUT_INVALID) "audit line N: …" for anything that is not a v1 record.
 */
export function parseAuditLine(text: string, line: number): MonitorRecord {
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
  const timeMs = Date.parse(time);
  if (!Number.isFinite(timeMs) || !/^\d{4}-\d\d-\d\dT/.test(time)) bad(line, '"time" must be an ISO 8601 time');
  const outcome = o.outcome;
  if (typeof outcome !== "string" || !OUTCOMES.has(outcome)) bad(line, '"outcome" must be ok, denied or error');
  const ctx = o.context;
  let context: Record<string, string> | null = null;
  if (ctx !== null && ctx !== undefined) {
    if (typeof ctx !== "object" || Array.isArray(ctx)) bad(line, '"context" must be an object of strings or null');
    for (const x of Object.values(ctx)) if (typeof x !== "string") bad(line, '"context" values must be strings');
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
    outcome: outcome as MonitorRecord["outcome"],
    errorCode: optString(o, "errorCode", line),
  };
}

/**
 * Records from a byte stream of export lines, in order. Blank lines are skipped.
 * @throws MonitorError(MONITOR_INPUT_INVALID) naming the line: malformed, too long, or a seq not above the one before.
 */
export async function* readAuditRecords(source: AsyncIterable<Buffer | string>): AsyncGenerator<MonitorRecord> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  let lastSeq = 0;
  const take = (text: string): MonitorRecord | null => {
    line++;
    if (text.length === 0 || text.trim() === "") return null;
    if (text.length > MAX_LINE_BYTES) bad(line, `longer than ${MAX_LINE_BYTES} bytes`);
    const r = parseAuditLine(text, line);
    if (r.seq <= lastSeq) bad(line, `seq ${r.seq} does not follow seq ${lastSeq} (records must be in export order)`);
    lastSeq = r.seq;
    return r;
  };
  for await (const chunk of source) {
    const text = rest + (typeof chunk === "string" ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      const r = take(text.slice(start, nl));
      start = nl + 1;
      if (r) yield r;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE_BYTES) bad(line + 1, `longer than ${MAX_LINE_BYTES} bytes`);
  }
  rest += decoder.end();
  if (rest.length > 0) {
    const r = take(rest);
    if (r) yield r;
  }
}
