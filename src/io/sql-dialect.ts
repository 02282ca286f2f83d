/**
 * The two SQL dialects pipeseal's schemas are written in, as the few words that differ between
 * them in a table definition. A table is written once with these words (keys/schema-history.ts,
 * audit/schema.ts) and so exists once for SQLite and PostgreSQL.
 */
export type SqlDialect = "sqlite" | "postgres";

export interface SqlTypes {
  readonly dialect: SqlDialect;
  /** A 64-bit integer column. */
  readonly int: string;
  /** A byte-string column. */
  readonly blob: string;
  /** The table option for a table keyed by its primary key alone ("" where there is none). */
  readonly withoutRowid: string;
}

export const SQL_TYPES: Readonly<Record<SqlDialect, SqlTypes>> = {
  sqlite: { dialect: "sqlite", int: "INTEGER", blob: "BLOB", withoutRowid: " WITHOUT ROWID" },
  postgres: { dialect: "postgres", int: "BIGINT", blob: "BYTEA", withoutRowid: "" },
};
