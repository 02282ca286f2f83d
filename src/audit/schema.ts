/**
 * The `audit` table. It lives in the keystore database so that an admin change and its
 * record commit in one transaction. `seq` is assigned from the head anchor (never reused,
 * no AUTOINCREMENT needed): a deleted tail leaves a gap that verification reports. The same
 * table in both dialects (the key service's PostgreSQL store has it too, keys/schema-history.ts).
 */
import { SQL_TYPES, type SqlTypes } from "../io/sql-dialect.js";

export function auditTableSql(t: SqlTypes): string {
  return `
CREATE TABLE audit (
  seq          ${t.int} PRIMARY KEY,
  time         TEXT    NOT NULL,
  principal    TEXT    NOT NULL,
  operation    TEXT    NOT NULL,
  key_name     TEXT,
  key_version  ${t.int},
  object_path  TEXT,
  header_hash  TEXT,
  context      TEXT,
  outcome      TEXT    NOT NULL,
  error_code   TEXT,
  mac          ${t.blob} NOT NULL
);
CREATE INDEX audit_time ON audit(time);
`;
}

/** The table in the keystore's dialect. */
export const AUDIT_TABLE_SQL = auditTableSql(SQL_TYPES.sqlite);

/** Key of the head anchor in the `meta` table: JSON `{ "seq": n, "mac": hex }`. */
export const AUDIT_HEAD_META_KEY = "audit_head";

/** Raw row shape of the `audit` table. */
export interface AuditRow {
  seq: number;
  time: string;
  principal: string;
  operation: string;
  key_name: string | null;
  key_version: number | null;
  object_path: string | null;
  header_hash: string | null;
  context: string | null;
  outcome: string;
  error_code: string | null;
  mac: Buffer;
}
