/**
 * One schema history for both stores (src/keys/schema-history.ts): every migration each store
 * draws from it is, version by version, the schema that release shipped (the released SQL, frozen
 * in test/keys/fixtures/released-schema), on a real SQLite database and a real PostgreSQL. A
 * released migration edited in the history, dropped, or added without its frozen file fails here.
 * And the one migration rule: a schema newer than this build is refused by every store, untouched.
 */
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrationsOf } from "../../src/keys/schema-history.js";
import { openKeystore } from "../../src/keys/open-keystore.js";
import { initKeystore } from "../../src/keys/init-keystore.js";
import { openCorpusDb } from "../../src/fields/corpus/store.js";
import { migrate as migratePostgres } from "../../src/server/store/pg-schema.js";
import { postgresSchema, releasedMigrations, sqliteSchema } from "../helpers/schema.js";
import { startPostgres } from "../helpers/postgres.js";
import { tempDir } from "../helpers/keystore.js";

function sqliteAfter(migrations: readonly string[]): string[] {
  const db = new Database(":memory:");
  try {
    for (const sql of migrations) db.exec(sql);
    return sqliteSchema(db);
  } finally {
    db.close();
  }
}

describe.each(["keystore", "secrets"] as const)("the %s list (SQLite)", (list) => {
  const released = releasedMigrations(list);
  // the secret store's tables live beside the keystore's; its migration 1 needs no other table
  const drawn = migrationsOf(list);

  it("has exactly the released migrations", () => {
    expect(released.length).toBeGreaterThan(0);
    expect(drawn).toHaveLength(released.length);
  });

  it.each(released.map((_, i) => i + 1))("version %i is the schema that shipped", (v) => {
    expect(sqliteAfter(drawn.slice(0, v))).toEqual(sqliteAfter(released.slice(0, v)));
  });
});

describe("the postgres list", () => {
  const released = releasedMigrations("postgres");
  const drawn = migrationsOf("postgres");
  let n = 0;
  const cluster = startPostgres();
  afterAll(async () => (await cluster).stop());

  async function postgresAfter(migrations: readonly string[]): Promise<string[]> {
    const c = await cluster;
    const name = `schema_${++n}`;
    await c.createDatabase(name);
    const client = new pg.Client(c.poolConfig(name));
    await client.connect();
    try {
      for (const sql of migrations) await client.query(sql);
      const head = await client.query<{ line: string }>("SELECT seq || ':' || encode(mac, 'hex') AS line FROM audit_head");
      return [...(await postgresSchema(client)), ...head.rows.map((r) => `audit_head row ${r.line}`)];
    } finally {
      await client.end();
    }
  }

  it("has exactly the released migrations", () => {
    expect(released.length).toBeGreaterThan(0);
    expect(drawn).toHaveLength(released.length);
  });

  it.each(released.map((_, i) => i + 1))("version %i is the schema that shipped", async (v) => {
    const want = await postgresAfter(released.slice(0, v));
    expect(want.length).toBeGreaterThan(10);
    expect(await postgresAfter(drawn.slice(0, v))).toEqual(want);
  });

  it("a database newer than this build is refused, untouched", async () => {
    const c = await cluster;
    await c.createDatabase("schema_newer");
    const pool = new pg.Pool(c.poolConfig("schema_newer"));
    try {
      await migratePostgres(pool);
      await pool.query("INSERT INTO schema_migrations (version) VALUES ($1)", [drawn.length + 1]);
      await expect(migratePostgres(pool)).rejects.toMatchObject({
        code: "KEYSTORE_CORRUPT",
        message: expect.stringContaining(`supports up to ${drawn.length}`),
      });
      const { rows } = await pool.query<{ v: number }>("SELECT MAX(version) AS v FROM schema_migrations");
      expect(rows[0]?.v).toBe(drawn.length + 1);
    } finally {
      await pool.end();
    }
  });
});

describe("a schema newer than this build (SQLite files)", () => {
  it("the keystore is refused, untouched", async () => {
    const home = path.join(tempDir("pipeseal-schema-"), "home");
    await initKeystore(home);
    const db = new Database(path.join(home, "keystore.db"));
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(migrationsOf("keystore").length + 1));
    db.close();
    await expect(openKeystore(home)).rejects.toMatchObject({ code: "KEYSTORE_CORRUPT", message: expect.stringContaining("this build supports up to") });
    const after = new Database(path.join(home, "keystore.db"), { readonly: true });
    expect(after.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: String(migrationsOf("keystore").length + 1) });
    after.close();
  });

  it("a capability's tables are refused", async () => {
    const home = path.join(tempDir("pipeseal-schema-"), "home");
    await initKeystore(home);
    const ks = await openKeystore(home);
    try {
      ks.ensureTables("secrets", migrationsOf("secrets"));
      ks.auditedChange({ operation: "test.bump" }, (db) => db.prepare("UPDATE meta SET value = '9' WHERE key = 'schema_version.secrets'").run());
      expect(() => ks.ensureTables("secrets", migrationsOf("secrets"))).toThrow(expect.objectContaining({ code: "KEYSTORE_CORRUPT" }));
    } finally {
      ks.close();
    }
  });

  it("a corpus store is refused, untouched", () => {
    const file = path.join(tempDir("pipeseal-schema-"), "corpus.db");
    openCorpusDb(file, true).close();
    const db = new Database(file);
    db.pragma("user_version = 99");
    db.close();
    expect(() => openCorpusDb(file, false)).toThrow(
      expect.objectContaining({ code: "KEYSTORE_CORRUPT", message: expect.stringContaining("has schema version 99") }),
    );
    const after = new Database(file, { readonly: true });
    expect(after.pragma("user_version", { simple: true })).toBe(99);
    after.close();
  });
});
