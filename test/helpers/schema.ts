/**
 * A database's schema as comparable text, so two databases made two ways (released SQL vs the
 * schema history; an earlier release's file migrated vs a fresh one) can be compared with toEqual.
 */
import { existsSync, readFileSync } from "node:fs";
import type Database from "better-sqlite3";
import type pg from "pg";

/** The released migrations of one list, frozen as they shipped (test/keys/fixtures/released-schema). */
export function releasedMigrations(list: "keystore" | "secrets" | "postgres"): string[] {
  const dir = new URL("../keys/fixtures/released-schema/", import.meta.url);
  const out: string[] = [];
  for (let v = 1; ; v++) {
    const file = new URL(`${list}-${v}.sql`, dir);
    if (!existsSync(file)) return out;
    out.push(readFileSync(file, "utf8"));
  }
}

/** Whitespace does not matter; everything else in a definition does. */
function normalize(sql: string): string {
  return sql
    .replace(/\s+/g, " ")
    .replace(/\s*([(),])\s*/g, "$1")
    .trim();
}

/** SQLite: every table, index and trigger with its definition. */
export function sqliteSchema(db: Database.Database): string[] {
  const rows = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  return rows.map((r) => `${r.type} ${r.name} on ${r.tbl_name}: ${normalize(r.sql ?? "")}`);
}

/** PostgreSQL: the public schema's columns, constraints and indexes, as the catalog describes them. */
export async function postgresSchema(client: pg.ClientBase, options: { except?: readonly string[] } = {}): Promise<string[]> {
  const except = [...(options.except ?? [])];
  const columns = await client.query<{ line: string }>(
    `SELECT table_name || '.' || column_name || ' ' || data_type || ' null=' || is_nullable || ' default=' || COALESCE(column_default, '-') AS line
       FROM information_schema.columns WHERE table_schema = 'public' AND NOT (table_name = ANY($1)) ORDER BY table_name, ordinal_position`,
    [except],
  );
  const constraints = await client.query<{ line: string }>(
    `SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) AS line
       FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND NOT (conrelid::regclass::text = ANY($1)) ORDER BY 1`,
    [except],
  );
  const indexes = await client.query<{ line: string }>(
    "SELECT indexdef AS line FROM pg_indexes WHERE schemaname = 'public' AND NOT (tablename = ANY($1)) ORDER BY indexname",
    [except],
  );
  return [...columns.rows, ...constraints.rows, ...indexes.rows].map((r) => r.line);
}
