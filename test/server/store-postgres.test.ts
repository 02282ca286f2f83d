/**
 * The shared KeyStore suite against PostgreSQL (a throwaway cluster, test/helpers/postgres.ts),
 * then what only a shared database has: two stores on two pools (two replicas) at once.
 */
import { createHmac, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attributed } from "../../src/server/store/actor.js";
import { type LockedHead, chainedRows, insertIfHeadAt } from "../../src/server/store/pg-audit.js";
import { type PostgresStore, openPostgresStore } from "../../src/server/store/postgres.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { storeSuite } from "./store.suite.js";

const cluster: TestPostgres = await startPostgres();
const homes = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-store-pg-"));
afterAll(async () => {
  await cluster.stop();
  await fs.rm(homes, { recursive: true, force: true });
});
let n = 0;
let current = "";

async function fresh(): Promise<{ db: string; home: string }> {
  current = `store_${++n}`;
  await cluster.createDatabase(current);
  return { db: current, home: path.join(homes, current) };
}

async function sql(statement: string): Promise<void> {
  await query(statement);
}

/** As the cluster's superuser, on the current database. */
async function query<R extends pg.QueryResultRow>(statement: string): Promise<pg.QueryResult<R>> {
  const client = new pg.Client(cluster.poolConfig(current));
  await client.connect();
  try {
    return await client.query<R>(statement);
  } finally {
    await client.end();
  }
}

storeSuite("postgres", {
  async open() {
    const { db, home } = await fresh();
    await fs.mkdir(home, { mode: 0o700 });
    return openPostgresStore({ pool: cluster.poolConfig(db), root: { home }, create: true });
  },
  async breakAudit() {
    await sql(`CREATE OR REPLACE FUNCTION audit_offline() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit offline'; END $$;
               CREATE TRIGGER audit_offline BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_offline();`);
  },
  async repairAudit() {
    if (current !== "") await sql("DROP TRIGGER IF EXISTS audit_offline ON audit");
  },
  async tamperAudit(seq) {
    await sql(`UPDATE audit SET principal = 'mallory' WHERE seq = ${Number(seq)}`);
  },
  sql,
});

describe("PostgreSQL: two replicas on one database", () => {
  let a: PostgresStore;
  let b: PostgresStore;
  let home = "";
  beforeAll(async () => {
    const f = await fresh();
    home = f.home;
    await fs.mkdir(home, { mode: 0o700 });
    // both replicas start together on an empty database: migrations and init happen once
    [a, b] = await Promise.all([
      openPostgresStore({ pool: { ...cluster.poolConfig(f.db), max: 20 }, root: { home }, create: true }),
      openPostgresStore({ pool: { ...cluster.poolConfig(f.db), max: 20 }, root: { home }, create: true }),
    ]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("50 concurrent rotations split across replicas give versions 1..51 and one primary", async () => {
    await a.createKey("admin", "k/rot");
    await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).rotateKey(`admin${i % 2}`, "k/rot")));
    const info = await b.showKey("k/rot");
    expect(info.versions.map((v) => v.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    expect(info.primaryVersion).toBe(51);
    expect(info.versions.every((v) => v.state === "enabled")).toBe(true);
    const rotations = (await a.listAudit()).filter((r) => r.operation === "key.rotate" && r.keyName === "k/rot");
    expect(rotations.map((r) => r.keyVersion).sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect((await b.verifyAudit()).ok).toBe(true);
  });

  it("40 concurrent wraps split across replicas under a limit of 10 (stores opened with it): exactly 10 succeed, each version count exact, the rest KEY_USAGE_LIMIT", async () => {
    // its own database (not fresh(): the tests after this one edit the current one)
    await cluster.createDatabase("wrap_limit");
    const limitHome = path.join(homes, "wrap_limit");
    await fs.mkdir(limitHome, { mode: 0o700 });
    const [x, y] = await Promise.all(
      [0, 1].map(() =>
        openPostgresStore({ pool: { ...cluster.poolConfig("wrap_limit"), max: 20 }, root: { home: limitHome }, create: true, maxWrapsPerVersion: 10 }),
      ),
    );
    try {
      await x!.createKey("admin", "k/limit");
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? x! : y!).wrap("w", "k/limit", randomBytes(32), { i: String(i) })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(10);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused.map((r) => (r.reason as { code?: string }).code)).toEqual(Array.from({ length: 30 }, () => "KEY_USAGE_LIMIT"));
      expect((await y!.showKey("k/limit")).versions[0]?.wrapCount).toBe(10);
      // a rotation opens a fresh count; the first version stays exhausted
      await y!.rotateKey("admin", "k/limit");
      expect((await x!.wrap("w", "k/limit", randomBytes(32), {})).keyVersion).toBe(2);
      expect((await x!.showKey("k/limit")).versions.map((v) => v.wrapCount)).toEqual([10, 1]);
    } finally {
      await Promise.all([x?.close(), y?.close()]);
    }
  });

  it("a rotation through A is visible to B at once", async () => {
    await a.createKey("admin", "k/vis");
    const dk = randomBytes(32);
    const rotated = await a.rotateKey("admin", "k/vis");
    expect((await b.showKey("k/vis")).primaryVersion).toBe(rotated.primaryVersion);
    const entry = await b.wrap("w", "k/vis", dk, { t: "1" });
    expect(entry.keyVersion).toBe(2);
    expect((await a.unwrap("w", entry, { t: "1" }, { operation: "unwrap" })).equals(dk)).toBe(true);
  });

  it("interleaved unwraps and rotations on both replicas: the chain verifies and no record is lost", async () => {
    await a.createKey("admin", "k/mix");
    const dk = randomBytes(32);
    const entry = await a.wrap("w", "k/mix", dk, { job: "mix" });
    const before = await a.listAudit({ limit: 1 });
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      const s = i % 2 === 0 ? a : b;
      if (i % 6 === 0) ops.push(s.rotateKey("admin", "k/mix"));
      else if (i % 6 === 3) ops.push(s.appendAudit({ principal: `w${i}`, operation: "unwrap", allowed: true, rule: "r1", keyName: "k/mix" }));
      else ops.push(s.unwrap(`w${i}`, entry, { job: "mix" }, { operation: "unwrap", path: `shard-${i}` }).then((k) => expect(k.equals(dk)).toBe(true)));
    }
    await Promise.all(ops);
    const after = (await b.listAudit()).filter((r) => r.seq > (before[0]?.seq ?? 0));
    expect(after).toHaveLength(120);
    expect(after.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => (before[0]?.seq ?? 0) + i + 1));
    expect(
      after
        .filter((r) => r.operation === "unwrap")
        .map((r) => r.objectPath)
        .sort(),
    ).toHaveLength(80);
    expect((await b.showKey("k/mix")).primaryVersion).toBe(21);
    const verdict = await a.verifyAudit();
    expect(verdict).toMatchObject({ ok: true, problems: [] });
  });

  it("group commit across replicas: 240 concurrent unwraps and decisions on both, the chain verifies, each recorded once", async () => {
    await a.createKey("admin", "k/gc");
    const dk = randomBytes(32);
    const entry = await a.wrap("w", "k/gc", dk, { job: "gc" });
    const head = (await a.listAudit({ limit: 1 }))[0]?.seq as number;
    const calls = Array.from({ length: 240 }, (_, i) => {
      const s = i % 2 === 0 ? a : b;
      return s.together(() => [
        s.appendAudit({ principal: `w${i}`, operation: "unwrap", allowed: false, rule: "builtin:default-deny", keyName: "k/gc", errorCode: "ACCESS_DENIED" }),
        s
          .unwrap(new Attributed(`w${i}`, { rule: "r1" }), entry, { job: "gc" }, { operation: "decrypt", path: `shard-${i}` })
          .then((k) => expect(k.equals(dk)).toBe(true)),
      ]);
    });
    await Promise.all(calls.flat());
    const added = (await b.listAudit()).filter((r) => r.seq > head);
    expect(added.map((r) => r.seq)).toEqual(Array.from({ length: 480 }, (_, i) => head + 1 + i));
    expect(
      added
        .filter((r) => r.operation === "decrypt")
        .map((r) => r.objectPath)
        .sort(),
    ).toEqual(Array.from({ length: 240 }, (_, i) => `shard-${i}`).sort());
    // each group: its denial, then the authorized unwrap's one record carrying its rule, adjacent
    for (let i = 0; i < added.length; i += 2) {
      expect([added[i]?.operation, added[i]?.outcome, added[i + 1]?.operation, added[i + 1]?.principal]).toEqual([
        "authz.unwrap",
        "denied",
        "decrypt",
        added[i]?.principal,
      ]);
      expect(JSON.parse(added[i + 1]!.context!)["@rule"]).toBe("r1");
    }
    expect(a.commitStats().batches + b.commitStats().batches).toBeLessThan(240);
    expect(await a.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  it("a batch whose COMMIT fails (deferred trigger): every request rejects with AUDIT_WRITE_FAILED, no key, no record", async () => {
    await a.createKey("admin", "k/commit");
    const entry = await a.wrap("w", "k/commit", randomBytes(32), {});
    const count = (await a.listAudit()).length;
    // raises only at COMMIT: the batch's keys were already opened and must be wiped, not released
    await sql(`CREATE OR REPLACE FUNCTION audit_commit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'commit refused'; END $$;
               CREATE CONSTRAINT TRIGGER audit_commit_fails AFTER INSERT ON audit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_commit_fails();`);
    try {
      const settled = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => a.unwrap(`w${i}`, entry, {}, { operation: "decrypt" })));
      expect(settled.map((r) => (r.status === "rejected" ? (r.reason as { code?: string }).code : "released"))).toEqual(Array(40).fill("AUDIT_WRITE_FAILED"));
    } finally {
      await sql("DROP TRIGGER audit_commit_fails ON audit");
    }
    expect((await a.listAudit()).length).toBe(count);
    expect((await a.unwrap("w", entry, {}, { operation: "decrypt" })).length).toBe(32);
    expect((await a.verifyAudit()).ok).toBe(true);
  });

  it("sequential unwraps on one replica are written in one round trip each, from its snapshot", async () => {
    await a.createKey("admin", "k/fast");
    const dk = randomBytes(32);
    const entry = await a.wrap("w", "k/fast", dk, { job: "fast" });
    await a.unwrap("w", entry, { job: "fast" }, { operation: "unwrap" }); // reads the version under the lock
    const before = a.commitStats();
    for (let i = 0; i < 20; i++) expect((await a.unwrap("w", entry, { job: "fast" }, { operation: "unwrap" })).equals(dk)).toBe(true);
    const after = a.commitStats();
    expect(after.batches - before.batches).toBe(20);
    expect((after.oneRoundTrip ?? 0) - (before.oneRoundTrip ?? 0)).toBe(20);
    expect((await a.verifyAudit()).ok).toBe(true);
  });

  it("a key change through one replica is honoured by the other's next unwrap, though its snapshot still holds the old state", async () => {
    await a.createKey("admin", "k/snap");
    const dk = randomBytes(32);
    const v1 = await a.wrap("w", "k/snap", dk, { job: "snap" });
    await a.rotateKey("admin", "k/snap");
    const unwrapB = () => b.unwrap("w", v1, { job: "snap" }, { operation: "unwrap" });
    const refusal = () =>
      unwrapB().then(
        () => "released",
        (e: { code?: string }) => e.code,
      );
    for (let i = 0; i < 3; i++) expect((await unwrapB()).equals(dk)).toBe(true); // B's snapshot now holds v1 as enabled
    await a.disableVersion("admin", "k/snap", 1);
    expect(await refusal()).toBe("KEY_DISABLED");
    await a.enableVersion("admin", "k/snap", 1);
    expect((await unwrapB()).equals(dk)).toBe(true);
    await a.setMinDecryptVersion("admin", "k/snap", 2);
    expect(await refusal()).toBe("KEY_BELOW_MIN_VERSION");
    await a.destroyVersion("admin", "k/snap", 1);
    expect(await refusal()).toBe("KEY_DESTROYED");
    const last = (await b.listAudit({ limit: 1 }))[0];
    expect(last).toMatchObject({ operation: "unwrap", outcome: "denied", errorCode: "KEY_DESTROYED", keyName: "k/snap", keyVersion: 1 });
    expect(await b.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  it("a one-round-trip write that fails (at insert or at its implicit commit) rejects every caller with AUDIT_WRITE_FAILED: no key, no record", async () => {
    await a.createKey("admin", "k/fastfail");
    const entry = await a.wrap("w", "k/fastfail", randomBytes(32), {});
    const unwrap = () => a.unwrap("w", entry, {}, { operation: "decrypt" });
    for (let i = 0; i < 2; i++) await unwrap();
    const warm = a.commitStats().oneRoundTrip ?? 0;
    await unwrap();
    expect(a.commitStats().oneRoundTrip).toBe(warm + 1); // the snapshot holds the version: batches take the fast path
    const triggers = [
      "CREATE TRIGGER fast_fails BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION fast_fails()",
      "CREATE CONSTRAINT TRIGGER fast_fails AFTER INSERT ON audit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fast_fails()",
    ];
    for (const trigger of triggers) {
      const count = (await a.listAudit()).length;
      const fast = a.commitStats().oneRoundTrip ?? 0;
      await sql(`CREATE OR REPLACE FUNCTION fast_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$; ${trigger};`);
      try {
        const settled = await Promise.allSettled(Array.from({ length: 20 }, unwrap));
        expect(settled.map((r) => (r.status === "rejected" ? (r.reason as { code?: string }).code : "released"))).toEqual(Array(20).fill("AUDIT_WRITE_FAILED"));
      } finally {
        await sql("DROP TRIGGER fast_fails ON audit");
      }
      expect((await a.listAudit()).length).toBe(count);
      expect((await unwrap()).length).toBe(32); // after an unknown outcome the snapshot is dropped: the lock path, then fast again
      expect((await unwrap()).length).toBe(32);
      expect(a.commitStats().oneRoundTrip ?? 0).toBeGreaterThan(fast);
    }
    expect(await a.verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  it("crypto-shredding: after destroyVersion the old wrapped KEK is not in the key_versions heap file (VACUUM FULL)", async () => {
    await a.createKey("admin", "k/shred");
    await a.rotateKey("admin", "k/shred");
    const heap = async () => {
      await sql("CHECKPOINT"); // dirty pages to the data file, which is what a disk thief reads
      const { rows } = await query<{ bytes: Buffer }>("SELECT pg_read_binary_file(pg_relation_filepath('key_versions')) AS bytes");
      return rows[0]?.bytes as Buffer;
    };
    const { rows } = await query<{ kek: Buffer }>("SELECT kek FROM key_versions WHERE key_name = 'k/shred' AND version = 1");
    const kek = rows[0]?.kek as Buffer;
    expect(kek.length).toBeGreaterThan(32);
    expect((await heap()).includes(kek)).toBe(true); // the probe can see it while it is live
    await b.destroyVersion("admin", "k/shred", 1);
    expect((await heap()).includes(kek)).toBe(false);
    expect((await a.showKey("k/shred")).versions[0]?.state).toBe("destroyed");
  });

  it("refuses a wrong root key and an uninitialised database", async () => {
    const other = path.join(homes, "other-root");
    await fs.mkdir(other, { mode: 0o700 });
    await expect(openPostgresStore({ pool: cluster.poolConfig(current), root: { home: other } })).rejects.toMatchObject({ code: "MASTER_KEY_UNAVAILABLE" });
    await fs.writeFile(path.join(other, "master.key"), randomBytes(32), { mode: 0o600 });
    await expect(openPostgresStore({ pool: cluster.poolConfig(current), root: { home: other }, create: true })).rejects.toMatchObject({
      code: "MASTER_KEY_WRONG",
    });
    const f = await fresh();
    await expect(openPostgresStore({ pool: cluster.poolConfig(f.db), root: { home } })).rejects.toMatchObject({ code: "KEYSTORE_NOT_INITIALIZED" });
  });
});

describe("PostgreSQL: the guarded one-round-trip append", () => {
  it("the one-round-trip append writes nothing unless the head is exactly the one its records follow (seq and MAC)", async () => {
    const { db, home } = await fresh();
    await fs.mkdir(home, { mode: 0o700 });
    await (await openPostgresStore({ pool: cluster.poolConfig(db), root: { home }, create: true })).close();
    const client = new pg.Client({
      ...cluster.poolConfig(db),
      types: { getTypeParser: (oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as "text")) } as never,
    });
    await client.connect();
    try {
      const count = async () => Number((await client.query("SELECT count(*) AS n FROM audit")).rows[0].n);
      const head = (await client.query<LockedHead>("SELECT seq, mac FROM audit_head WHERE id = 1")).rows[0] as LockedHead;
      const mac = (d: Buffer) => createHmac("sha256", Buffer.alloc(32, 7)).update(d).digest();
      const event = { operation: "unwrap", principal: "w", outcome: "ok" as const };
      const n = await count();
      const stale = { seq: head.seq - 1, mac: head.mac };
      const forged = { seq: head.seq, mac: Buffer.alloc(32, 1) };
      for (const wrong of [stale, forged]) {
        expect(await insertIfHeadAt(client as unknown as pg.PoolClient, wrong, chainedRows(mac, wrong, [event, event], Date.now()))).toBe(false);
      }
      expect(await count()).toBe(n);
      expect(await insertIfHeadAt(client as unknown as pg.PoolClient, head, chainedRows(mac, head, [event, event], Date.now()))).toBe(true);
      expect(await count()).toBe(n + 2);
      expect(await insertIfHeadAt(client as unknown as pg.PoolClient, head, chainedRows(mac, head, [event], Date.now()))).toBe(false); // replayed
      expect(await count()).toBe(n + 2);
      expect((await client.query("SELECT seq FROM audit_head")).rows[0].seq).toBe(head.seq + 2);
    } finally {
      await client.end();
    }
  });
});
