/**
 * The audit filter in a URL: parsed from the query string of the audit page, its chart and
 * its exports (one parser, so an export covers exactly what the page shows) and written back
 * into links. Bad values are a typed error, shown on the page, never a partial filter.
 */
import type { AuditFilter } from "../audit/filter.js";
import { AUDIT_OUTCOMES } from "../audit/filter.js";
import type { AuditOutcome } from "../audit/types.js";
import { UsageError } from "../errors.js";
import { parseDuration } from "../io/duration.js";

export type Query = Readonly<Record<string, string | string[] | undefined>>;

const one = (q: Query, name: string): string | undefined => {
  const v = q[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === "" ? undefined : s.trim();
};
const many = (q: Query, name: string): string[] => {
  const v = q[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter((s) => s !== "");
};

/** A time bound: an ISO date or date-time (UTC unless it says otherwise), or a duration ago ("24h", "7d"). */
function timeBound(text: string, now: number, name: string): number {
  if (/^[0-9]+\s*[a-z]+$/i.test(text)) return now - parseDuration(text) * 1000;
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
  const ms = Date.parse(withZone);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    throw new UsageError("INVALID_ARGUMENT", `${name} must be a date (2026-03-01), a date-time (2026-03-01T09:00) or a duration ago (24h, 7d)`);
  return ms;
}

/** @throws UsageError(INVALID_ARGUMENT) for a malformed value */
export function filterFromQuery(q: Query, now: number): AuditFilter {
  const outcome = one(q, "outcome");
  if (outcome !== undefined && !AUDIT_OUTCOMES.includes(outcome as AuditOutcome))
    throw new UsageError("INVALID_ARGUMENT", `outcome must be one of ${AUDIT_OUTCOMES.join(", ")}`);
  const version = one(q, "version");
  if (version !== undefined && !/^[1-9][0-9]{0,8}$/.test(version)) throw new UsageError("INVALID_ARGUMENT", "version must be a positive whole number");
  const context: Record<string, string> = {};
  for (const pair of many(q, "ctx")) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError("INVALID_ARGUMENT", "a context filter is key=value");
    context[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  const since = one(q, "since");
  const until = one(q, "until");
  const text = (name: string) => one(q, name);
  return {
    ...(text("principal") ? { principal: text("principal")! } : {}),
    ...(text("key") ? { key: text("key")! } : {}),
    ...(version ? { version: Number(version) } : {}),
    ...(text("operation") ? { operation: text("operation")! } : {}),
    ...(outcome ? { outcome: outcome as AuditOutcome } : {}),
    ...(text("object") ? { object: text("object")! } : {}),
    ...(Object.keys(context).length ? { context } : {}),
    ...(text("q") ? { text: text("q")! } : {}),
    ...(since ? { sinceMs: timeBound(since, now, "since") } : {}),
    ...(until ? { untilMs: timeBound(until, now, "until") } : {}),
  };
}

/** The filter's own query parameters, as given (for links that keep the filter: pages, exports, chart). */
export function filterParams(q: Query): [string, string][] {
  const out: [string, string][] = [];
  for (const name of ["principal", "key", "version", "operation", "outcome", "object", "q", "since", "until"]) {
    const v = one(q, name);
    if (v !== undefined) out.push([name, v]);
  }
  for (const pair of many(q, "ctx")) out.push(["ctx", pair]);
  return out;
}

/** A path with the filter's parameters and `extra` (later wins). */
export function withFilter(pathname: string, q: Query, extra: Readonly<Record<string, string | number | null | undefined>> = {}): string {
  const search = new URLSearchParams(filterParams(q));
  for (const [k, v] of Object.entries(extra)) {
    search.delete(k);
    if (v !== null && v !== undefined && v !== "") search.set(k, String(v));
  }
  const s = search.toString();
  return s ? `${pathname}?${s}` : pathname;
}

/** A cursor parameter: a non-negative integer, or undefined. @throws UsageError(INVALID_ARGUMENT) */
export function cursor(q: Query, name: string): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw new UsageError("INVALID_ARGUMENT", `${name} must be a record number`);
  return Number(v);
}
