/**
 * `audit export`: audit records as JSON lines for a SIEM, one {@link AuditExportRecord} per
 * line, oldest first. The same schema from the local keystore and from the key service
 * (docs/keyservice.md, "Audit export").
 *
 * The record is a flat, stable view of an {@link AuditRecord}: the key service's records keep
 * the rule that decided them in the context under `@rule` — an allowed operation's own record
 * (one record per allowed operation, src/server/store/actor.ts) and an `authz.<operation>`
 * record where no operation followed (a denial, or an allowed operation that failed before it
 * started; src/server/store/decision.ts); here it is its own field, and the context is an
 * object, not canonical JSON text. `chainHash` is
 * the record's chain MAC: a SIEM cannot recompute it (the key is the keystore's), but it can
 * check continuity against `audit verify` and the head of a later export.
 *
 * Security guarantees: an export holds what `audit list` shows — principals, key names,
 * object paths and encryption-context values — never key material. Treat it as sensitive.
 *
 * @example
 * for (const r of ks.listAudit()) process.stdout.write(auditExportLine(r));
 */
import type { AuditOutcome, AuditRecord } from "./types.js";

/** The `schema` field of every line. A change that is not purely additive gets a new one. */
export const AUDIT_EXPORT_SCHEMA = "pipeseal.audit.v1";

/** Where the key service keeps a decision's rule inside the stored context. */
const RULE_KEY = "@rule";

export interface AuditExportRecord {
  readonly schema: typeof AUDIT_EXPORT_SCHEMA;
  /** Position in the hash chain: 1, 2, 3, … (a gap means records are missing; `audit verify` names it). */
  readonly seq: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly time: string;
  /** Who acted: a SPIFFE ID for the key service, a user name for the local keystore. */
  readonly principal: string;
  /** e.g. `unwrap`, `key.rotate`, or `authz.<operation>` for a key-service decision no operation followed (a denial, or an allowed operation that failed before it started). */
  readonly operation: string;
  readonly key: string | null;
  readonly version: number | null;
  readonly outcome: AuditOutcome;
  /** The stable error code (docs/errors.md) when outcome is not "ok". */
  readonly errorCode: string | null;
  /** The policy rule (or `builtin:<invariant>`) that decided: on a key-service record of an allowed operation and on every `authz.*` record; else null. */
  readonly rule: string | null;
  readonly object: string | null;
  readonly headerHash: string | null;
  /** The encryption context of the operation (never the rule), or null. */
  readonly context: Readonly<Record<string, string>> | null;
  /** Hex HMAC-SHA-256 chaining this record to the one before. */
  readonly chainHash: string;
}

/** Maps a stored record to its export form. Pure. */
export function toAuditExportRecord(r: AuditRecord): AuditExportRecord {
  const ctx = parseContext(r.context);
  const rule = ctx !== null && typeof ctx[RULE_KEY] === "string" ? ctx[RULE_KEY] : null;
  let context: Record<string, string> | null = ctx;
  if (ctx !== null && rule !== null) {
    const { [RULE_KEY]: _rule, ...rest } = ctx;
    context = Object.keys(rest).length > 0 ? rest : null;
  }
  return {
    schema: AUDIT_EXPORT_SCHEMA,
    seq: r.seq,
    time: r.time,
    principal: r.principal,
    operation: r.operation,
    key: r.keyName,
    version: r.keyVersion,
    outcome: r.outcome,
    errorCode: r.errorCode,
    rule,
    object: r.objectPath,
    headerHash: r.headerHash,
    context,
    chainHash: r.mac,
  };
}

/** One export line (with its "\n"). */
export function auditExportLine(r: AuditRecord): string {
  return `${JSON.stringify(toAuditExportRecord(r))}\n`;
}

/** The stored context is canonical JSON written by the keystore; anything else is kept out of the export rather than guessed at. */
function parseContext(text: string | null): Record<string, string> | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return null;
  }
}
