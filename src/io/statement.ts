/**
 * Prepared SQLite statements, prepared once per connection. better-sqlite3's `prepare` costs
 * about 10 µs (it compiles the SQL), ten times the statement's own run on the hot paths: an
 * audited unwrap reads its key and version and appends records, a handful of statements per
 * request. Only for statements run with get/all/run (an iterating statement is busy until
 * its iterator ends, so it must not be shared).
 */
import type Database from "better-sqlite3";

const byConnection = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** `db.prepare(sql)`, from this connection's cache after the first call. */
export function cached(db: Database.Database, sql: string): Database.Statement {
  let statements = byConnection.get(db);
  if (statements === undefined) byConnection.set(db, (statements = new Map<string, Database.Statement>()));
  let statement = statements.get(sql);
  if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)));
  return statement;
}
