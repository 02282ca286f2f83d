/**
 * Attacks on the key service's audit head, in both stores, as someone with write access to
 * the database but not the root key: real SQL on a real PostgreSQL cluster
 * (test/helpers/postgres.ts) and on the real SQLite file.
 */
import { randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { GENESIS_MAC, chainMac } from "../../src/audit/chain.js";
import { initKeystore } from "../../src/keys/keystore.js";
import { MasterKey } from "../../src/keys/master-key.js";
import { openPostgresStore } from "../../src/server/store/postgres.js";
import { openSqliteStore } from "../../src/server/store/sqlite.js";
import type { KeyStore } from "../../src/server/store/types.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";

const cluster: TestPostgres = await startPostgres();
const homes = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-head-stores-"));
afterAll(async () => {
  await cluster.stop();
  await fs.rm(homes, { recursive: true, force: true });
});

const CTX = { dataset: "users" };
let n = 0;

async function freshPg(): Promise<{ open: () => Promise<KeyStore>; sql: (text: string, values?: unknown[]) => Promise<pg.QueryResult>; home: string }> {
  const db = `head_${++n}`;
  await cluster.createDatabase(db);
  const home = path.join(homes, db);
  await fs.mkdir(home, { mode: 0o700 });
  const sql = async (text: string, values: unknown[] = []) => {
    const c = new pg.Client(cluster.poolConfig(db));
    await c.connect();
    try {
      return await c.query(text, values);
    } finally {
      await c.end();
    }
  };
  return { open: () => openPostgresStore({ pool: cluster.poolConfig(db), root: { home }, create: true }), sql, home };
}

/** A store with init, key.create and `unwraps` unwrap records; returns an entry to unwrap. */
async function withHistory(store: KeyStore, unwraps = 5) {
  await store.createKey("admin", "k");
  const entry = await store.wrap("svc", "k", randomBytes(32), CTX);
  for (let i = 0; i < unwraps; i++) (await store.unwrap("svc", entry, CTX, { operation: "unwrap", path: `o${i}` })).fill(0);
  expect((await store.verifyAudit()).ok).toBe(true);
  return entry;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe("PostgreSQL store: the audit head is authenticated", () => {
  it("deleting the last records and pointing audit_head at the record before fails verify, with the tag kept or cleared; no replica extends it", async () => {
    for (const tag of ["keep", "null"] as const) {
      const { open, sql } = await freshPg();
      const store = await open();
      const entry = await withHistory(store);
      const last = Number((await sql("SELECT max(seq) AS s FROM audit")).rows[0].s);
      const keep = last - 3;
      await sql("DELETE FROM audit WHERE seq > $1", [keep]);
      await sql(`UPDATE audit_head SET seq = $1, mac = (SELECT mac FROM audit WHERE seq = $1)${tag === "null" ? ", tag = NULL" : ""}`, [keep]);
      const verdict = await store.verifyAudit();
      expect(verdict.ok).toBe(false);
      expect(verdict.problems).toContainEqual(expect.objectContaining({ seq: keep, kind: "truncated" }));
      // the running replica (its snapshot still says `last`) refuses to chain after the forged head
      expect(await codeOf(store.unwrap("svc", entry, CTX, { operation: "unwrap" }))).toBe("AUDIT_CHAIN_BROKEN");
      expect(await codeOf(store.rotateKey("admin", "k"))).toBe("AUDIT_CHAIN_BROKEN");
      await store.close();
      // and so does a replica started afterwards
      const again = await open();
      expect((await again.verifyAudit()).ok).toBe(false);
      expect(await codeOf(again.unwrap("svc", entry, CTX, { operation: "unwrap" }))).toBe("AUDIT_CHAIN_BROKEN");
      expect(Number((await sql("SELECT max(seq) AS s FROM audit")).rows[0].s)).toBe(keep);
      await again.close();
    }
  });

  it("deleting every record and setting the head to seq 0 fails verify while keys exist", async () => {
    const { open, sql } = await freshPg();
    const store = await open();
    const entry = await withHistory(store, 2);
    await store.close();
    await sql("DELETE FROM audit");
    await sql("UPDATE audit_head SET seq = 0, mac = ''::bytea, tag = NULL");
    const again = await open();
    expect((await again.listKeys()).map((k) => k.name)).toEqual(["k"]);
    const verdict = await again.verifyAudit();
    expect(verdict).toMatchObject({ ok: false, records: 0 });
    expect(verdict.problems[0]).toMatchObject({ seq: 1, kind: "truncated" });
    expect(await codeOf(again.unwrap("svc", entry, CTX, { operation: "unwrap" }))).toBe("AUDIT_CHAIN_BROKEN");
    await again.close();
  });

  it("editing the head's tag fails verify", async () => {
    const { open, sql } = await freshPg();
    const store = await open();
    await withHistory(store, 1);
    await sql("UPDATE audit_head SET tag = $1", [randomBytes(32)]);
    const verdict = await store.verifyAudit();
    expect(verdict.ok).toBe(false);
    expect(verdict.problems.map((p) => p.detail).join()).toMatch(/head's MAC does not verify/);
    await store.close();
  });

  it("a database from before head MACs (no tag, init without marker) is sealed by the first replica that opens it, once", async () => {
    const { open, sql, home } = await freshPg();
    const store = await open();
    await withHistory(store, 3);
    await store.close();
    // rewrite it as the previous release left it: init without context, head without tag
    const master = MasterKey.fromRoot(readFileSync(path.join(home, "master.key")));
    const rows = (await sql("SELECT * FROM audit ORDER BY seq")).rows;
    let prev = GENESIS_MAC;
    for (const row of rows) {
      const fields = {
        ...row,
        seq: Number(row.seq),
        key_version: row.key_version === null ? null : Number(row.key_version),
        context: row.operation === "init" ? null : row.context,
      };
      prev = chainMac((d) => master.auditMac(d), prev, fields);
      await sql("UPDATE audit SET context = $1, mac = $2 WHERE seq = $3", [fields.context, prev, fields.seq]);
    }
    master.close();
    await sql("UPDATE audit_head SET tag = NULL, mac = $1", [prev]);
    const [a, b] = await Promise.all([open(), open()]);
    const records = await a.listAudit();
    expect(records.filter((r) => r.operation === "audit.upgrade")).toHaveLength(1);
    expect((await b.verifyAudit()).ok).toBe(true);
    await b.rotateKey("admin", "k");
    expect((await a.verifyAudit()).ok).toBe(true);
    await a.close();
    await b.close();
  });
});

describe("SQLite service store: the batch tags the head once, and a forged head is not extended", () => {
  it("240 concurrent unwraps verify; after a truncation with the head rewritten the next batch is refused", async () => {
    const home = path.join(homes, "sqlite");
    await initKeystore(home);
    const store = await openSqliteStore({ home });
    await store.createKey("admin", "k");
    const entry = await store.wrap("svc", "k", randomBytes(32), CTX);
    await Promise.all(Array.from({ length: 240 }, (_, i) => store.unwrap("svc", entry, CTX, { operation: "unwrap", path: `s${i}` }).then((k) => k.fill(0))));
    expect(store.commitStats().batches).toBeLessThan(240);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, records: 242 });
    const db = new Database(path.join(home, "keystore.db"));
    const mac = (db.prepare("SELECT mac FROM audit WHERE seq = 200").get() as { mac: Buffer }).mac.toString("hex");
    db.prepare("DELETE FROM audit WHERE seq > 200").run();
    db.prepare("UPDATE meta SET value = json_set(value, '$.seq', 200, '$.mac', ?) WHERE key = 'audit_head'").run(mac);
    db.close();
    expect((await store.verifyAudit()).ok).toBe(false);
    expect(await codeOf(store.unwrap("svc", entry, CTX, { operation: "unwrap" }))).toBe("AUDIT_CHAIN_BROKEN");
    await store.close();
  });
});
