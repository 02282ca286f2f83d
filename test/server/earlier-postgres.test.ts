/**
 * Key-service PostgreSQL databases made by earlier releases (test/server/fixtures: schema
 * versions 1 to 3, each a pg_dump of a database the store of a commit with that version wrote)
 * open with today's store: migrated to the current schema, the chain head and key state sealed
 * on that first open, the key in the state it was left (version 1 disabled, version 2 primary),
 * the data keys wrapped back then unwrapping, the approved policy still active, the chain
 * verifying, and the schema then the same as a database born today. Each is restored into a
 * fresh database of a real cluster.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { WrappedKey } from "../../src/keys/keyring.js";
import { migrationsOf } from "../../src/keys/schema-history.js";
import { openPostgresStore } from "../../src/server/store/postgres.js";
import { tempDir } from "../helpers/keystore.js";
import { startPostgres } from "../helpers/postgres.js";
import { postgresSchema } from "../helpers/schema.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const ADMIN = "spiffe://fixture/admin";
const JOB = "spiffe://fixture/job";
const cluster = await startPostgres();
afterAll(() => cluster.stop());

interface Wraps {
  context: Record<string, string>;
  entries: { version: number; dataKey: { base64: string }; wrapped: Omit<WrappedKey, "wrapped"> & { wrapped: { base64: string } } }[];
}

function wrapsOf(fixture: string) {
  const json = JSON.parse(readFileSync(path.join(FIXTURES, fixture, "wraps.json"), "utf8")) as Wraps;
  return {
    context: json.context,
    entries: json.entries.map((e) => ({
      version: e.version,
      dataKey: Buffer.from(e.dataKey.base64, "base64"),
      wrapped: { ...e.wrapped, wrapped: Buffer.from(e.wrapped.wrapped.base64, "base64") } as WrappedKey,
    })),
  };
}

async function withClient<T>(database: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(cluster.poolConfig(database));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh database with the fixture's dump in it, and a home holding its root (0600: git keeps no mode). */
async function restore(fixture: string, database: string): Promise<string> {
  await cluster.createDatabase(database);
  await withClient(database, (c) => c.query(readFileSync(path.join(FIXTURES, fixture, "database.sql"), "utf8")));
  const home = path.join(tempDir("pipeseal-earlier-pg-"), "home");
  mkdirSync(home, { mode: 0o700 });
  copyFileSync(path.join(FIXTURES, fixture, "master.key"), path.join(home, "master.key"));
  chmodSync(path.join(home, "master.key"), 0o600);
  return home;
}

const schemaVersion = (database: string) =>
  withClient(database, async (c) => (await c.query<{ v: number }>("SELECT MAX(version) AS v FROM schema_migrations")).rows[0]?.v);

describe("PostgreSQL databases made by earlier releases", () => {
  it.each([1, 2, 3])("postgres-v%i opens, migrated, with its key, wraps, policy and chain", async (version) => {
    const fixture = `postgres-v${version}`;
    const database = `earlier_v${version}`;
    const home = await restore(fixture, database);
    expect(await schemaVersion(database)).toBe(version);

    const store = await openPostgresStore({ pool: cluster.poolConfig(database), root: { home } });
    try {
      expect(await schemaVersion(database)).toBe(migrationsOf("postgres").length);
      expect((await store.showKey("legacy/k")).versions.map((v) => v.state)).toEqual(["disabled", "enabled"]);
      const { context, entries } = wrapsOf(fixture);
      const [v1, v2] = entries;
      const object = { path: "fixture/read", operation: "unwrap" };
      expect((await store.unwrap(JOB, v2!.wrapped, context, object)).equals(v2!.dataKey)).toBe(true);
      await expect(store.unwrap(JOB, v1!.wrapped, context, object)).rejects.toMatchObject({ code: "KEY_DISABLED" });
      await expect(store.unwrap(JOB, v2!.wrapped, { ...context, stage: "other" }, object)).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
      expect((await store.activePolicy())?.yaml).toBe("version: 1\nrules: []\n");

      // the store keeps working: a new version, a wrap under it, and version 1 back
      await store.rotateKey(ADMIN, "legacy/k");
      const fresh = await store.wrap(JOB, "legacy/k", Buffer.alloc(32, 7), context);
      expect(fresh.keyVersion).toBe(3);
      expect((await store.unwrap(JOB, fresh, context, object)).equals(Buffer.alloc(32, 7))).toBe(true);
      await store.enableVersion(ADMIN, "legacy/k", 1);
      expect((await store.unwrap(JOB, v1!.wrapped, context, object)).equals(v1!.dataKey)).toBe(true);

      const verify = await store.verifyAudit();
      expect(verify.problems).toEqual([]);
      expect(verify.ok).toBe(true);
      const operations = (await store.listAudit()).map((r) => r.operation);
      expect(operations).toContain("key.create");
      expect(operations).toContain("policy.approve");
    } finally {
      await store.close();
    }

    // the same schema as a database born today
    const bornHome = path.join(tempDir("pipeseal-born-pg-"), "home");
    mkdirSync(bornHome, { mode: 0o700 });
    await cluster.createDatabase(`born_v${version}`);
    await (await openPostgresStore({ pool: cluster.poolConfig(`born_v${version}`), root: { home: bornHome }, create: true })).close();
    const born = await withClient(`born_v${version}`, (c) => postgresSchema(c, { except: ["schema_migrations"] }));
    expect(born.length).toBeGreaterThan(20);
    expect(await withClient(database, (c) => postgresSchema(c, { except: ["schema_migrations"] }))).toEqual(born);
  });

  it("postgres-v1 with a record edited before the upgrade: it opens, its head stays unsealed, and verify reports the record", async () => {
    const home = await restore("postgres-v1", "earlier_edited");
    await withClient("earlier_edited", (c) => c.query("UPDATE audit SET principal = 'spiffe://fixture/someone-else' WHERE operation = 'key.disable'"));
    const store = await openPostgresStore({ pool: cluster.poolConfig("earlier_edited"), root: { home } });
    try {
      const operations = (await store.listAudit()).map((r) => r.operation);
      expect(operations).not.toContain("audit.upgrade");
      expect(operations).toContain("key.seal-state");
      const verify = await store.verifyAudit();
      expect(verify.ok).toBe(false);
      expect(verify.problems.length).toBeGreaterThan(0);
      const { context, entries } = wrapsOf("postgres-v1");
      expect((await store.unwrap(JOB, entries[1]!.wrapped, context, { path: "fixture/read", operation: "unwrap" })).equals(entries[1]!.dataKey)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("a restored database under another root is refused (MASTER_KEY_WRONG), not migrated past its check", async () => {
    const home = await restore("postgres-v3", "earlier_wrong_root");
    const other = path.join(tempDir("pipeseal-other-root-"), "home");
    mkdirSync(other, { mode: 0o700 });
    copyFileSync(path.join(FIXTURES, "postgres-v1", "master.key"), path.join(other, "master.key"));
    chmodSync(path.join(other, "master.key"), 0o600);
    expect(home).not.toBe(other);
    await expect(openPostgresStore({ pool: cluster.poolConfig("earlier_wrong_root"), root: { home: other } })).rejects.toMatchObject({
      code: "MASTER_KEY_WRONG",
    });
  });
});
