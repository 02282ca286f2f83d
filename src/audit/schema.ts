/**
 * The `audit` table. It lives in the keystore database so that an admin change and its
 * record commit in one transaction. `seq` is assigned from the head anchor (never reused,
 * no AUTOINCREMENT needed): a deleted tail leaves a gap that verification reports.
 */
export const AUDIT_TABLE_SQL = `
CREATE TABLE audit (
  seq          INTEGER PRIMARY KEY,
  time         TEXT    NOT NULL,
  principal    TEXT    NOT NULL,
  operation    TEXT    NOT NULL,
  key_name     TEXT,
  key_version  INTEGER,
  object_path  TEXT,
  header_hash  TEXT,
  context      TEXT,
  outcome      TEXT    NOT NULL,
  error_code   TEXT,
  mac          BLOB    NOT NULL
);
CREATE INDEX audit_time ON audit(time);
`;

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
