import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { AuditEvent, AuditSink } from "../../src/audit/index.js";
import { openKeystore, type LocalKeystore } from "../../src/keys/index.js";
import { dataKey, expectCode, freshStore, track } from "../keys/helpers.js";

const ctx = { dataset: "users" };
const HASH = "ab".repeat(32);

/** A keystore with some history: init, create, rotate and `n` unwraps → seq 1..(3+n). */
async function withHistory(n = 6): Promise<{ home: string; ks: LocalKeystore }> {
  const store = await freshStore();
  store.ks.createKey("k");
  store.ks.rotateKey("k");
  const entry = await store.ks.wrap("k", dataKey(), ctx);
  for (let i = 0; i < n; i++) (await store.ks.unwrap(entry, ctx, { operation: "decrypt", path: `obj-${i}` })).fill(0);
  return store;
}

/** Closes the store, runs raw SQL on the file, reopens and verifies. */
async function tamper(home: string, ks: LocalKeystore, sql: (db: Database.Database) => void) {
  ks.close();
  const db = new Database(path.join(home, "keystore.db"));
  sql(db);
  db.close();
  const again = track(await openKeystore(home));
  return again.verifyAudit();
}

describe("audit records", () => {
  it("records every unwrap with principal, key, version, object, context and outcome", async () => {
    const { ks } = await freshStore({ principal: "alice" });
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    await ks.unwrap(entry, ctx, { operation: "range-read", path: "/data/users.sealed", headerHash: HASH });
    const records = ks.listAudit();
    expect(records.map((r) => [r.seq, r.operation])).toEqual([
      [1, "init"],
      [2, "key.create"],
      [3, "range-read"],
    ]);
    expect(records[2]).toMatchObject({
      principal: "alice",
      keyName: "k",
      keyVersion: 1,
      objectPath: "/data/users.sealed",
      headerHash: HASH,
      context: JSON.stringify(ctx),
      outcome: "ok",
      errorCode: null,
    });
    expect(records[2]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(records[2]?.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(ks.auditHead()).toEqual({ seq: 3, mac: records[2]?.mac });
  });

  it("the unwrap record is committed (visible to another connection) when the key is returned", async () => {
    const { home, ks } = await freshStore();
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    await ks.unwrap(entry, ctx, { operation: "decrypt", path: "seen" });
    const other = new Database(path.join(home, "keystore.db"), { readonly: true });
    const row = other.prepare("SELECT operation, object_path FROM audit ORDER BY seq DESC LIMIT 1").get();
    other.close();
    expect(row).toEqual({ operation: "decrypt", object_path: "seen" });
  });

  it("the principal defaults to PIPESEAL_PRINCIPAL", async () => {
    const { home } = await freshStore();
    process.env.PIPESEAL_PRINCIPAL = "svc-train";
    try {
      const ks = track(await openKeystore(home));
      ks.createKey("k");
      expect(ks.listAudit({ limit: 1 })[0]?.principal).toBe("svc-train");
    } finally {
      delete process.env.PIPESEAL_PRINCIPAL;
    }
  });

  it("records denied and failed unwraps", async () => {
    const { ks } = await freshStore();
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    ks.rotateKey("k");
    ks.disableVersion("k", 1);
    await expectCode(() => ks.unwrap(entry, ctx, { operation: "decrypt", path: "p" }), "KEY_DISABLED");
    ks.enableVersion("k", 1);
    await expectCode(() => ks.unwrap(entry, { dataset: "other" }, { operation: "decrypt", path: "p" }), "DECRYPT_FAILED");
    await expectCode(() => ks.unwrap({ ...entry, keyName: "ghost" }, ctx, { operation: "decrypt" }), "KEY_NOT_FOUND");
    await expectCode(() => ks.disableVersion("k", 2), "KEY_STATE_CONFLICT");
    const tail = ks.listAudit({ limit: 5 }).map((r) => [r.operation, r.keyName, r.keyVersion, r.outcome, r.errorCode]);
    expect(tail).toEqual([
      ["decrypt", "k", 1, "denied", "KEY_DISABLED"],
      ["key.enable", "k", 1, "ok", null],
      ["decrypt", "k", 1, "error", "DECRYPT_FAILED"],
      ["decrypt", "ghost", 1, "denied", "KEY_NOT_FOUND"],
      ["key.disable", "k", 2, "denied", "KEY_STATE_CONFLICT"],
    ]);
    expect(ks.verifyAudit()).toEqual({ ok: true, records: ks.listAudit().length, problems: [] });
  });

  it("lists by time and limit", async () => {
    const t0 = Date.now() + 3_600_000;
    let now = t0;
    const { ks } = await freshStore({ now: () => now });
    ks.createKey("a");
    now = t0 + 1000;
    ks.createKey("b");
    ks.createKey("c");
    expect(ks.listAudit({ sinceMs: t0 + 1000 }).map((r) => r.keyName)).toEqual(["b", "c"]);
    expect(ks.listAudit({ sinceMs: t0 }).map((r) => r.keyName)).toEqual(["a", "b", "c"]);
    expect(ks.listAudit({ limit: 1 }).map((r) => r.keyName)).toEqual(["c"]);
  });
});

describe("audit verification", () => {
  it("a clean chain verifies", async () => {
    const { ks } = await withHistory();
    expect(ks.verifyAudit()).toEqual({ ok: true, records: 9, problems: [] });
  });

  it("an edited field is 'modified' at that seq", async () => {
    const { home, ks } = await withHistory();
    const result = await tamper(home, ks, (db) => db.prepare("UPDATE audit SET principal = 'mallory' WHERE seq = 5").run());
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ seq: 5, kind: "modified" })]);
  });

  it("a deleted middle record is 'deleted' at that seq", async () => {
    const { home, ks } = await withHistory();
    const result = await tamper(home, ks, (db) => db.prepare("DELETE FROM audit WHERE seq = 4").run());
    expect(result).toMatchObject({ ok: false, records: 8 });
    expect(result.problems).toEqual([expect.objectContaining({ seq: 4, kind: "deleted" })]);
  });

  it("a deleted last record is 'truncated' (head anchor)", async () => {
    const { home, ks } = await withHistory();
    const result = await tamper(home, ks, (db) => db.prepare("DELETE FROM audit WHERE seq >= 8").run());
    expect(result.problems).toEqual([expect.objectContaining({ seq: 8, kind: "truncated" })]);
  });

  it("swapped record contents are 'reordered' at both seqs (with or without their MACs)", async () => {
    const cols = "time, principal, operation, key_name, key_version, object_path, header_hash, context, outcome, error_code";
    for (const withMac of [false, true]) {
      const { home, ks } = await withHistory();
      const moved = withMac ? `${cols}, mac` : cols;
      const result = await tamper(home, ks, (db) => {
        db.exec(`CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (5, 7)`);
        for (const [to, from] of [
          [5, 7],
          [7, 5],
        ]) {
          db.exec(`UPDATE audit SET (${moved}) = (SELECT ${moved} FROM t WHERE seq = ${from}) WHERE seq = ${to}`);
        }
      });
      expect(result.ok).toBe(false);
      expect(result.problems.map((p) => [p.seq, p.kind])).toEqual([
        [5, "reordered"],
        [7, "reordered"],
      ]);
      expect(result.problems[0]?.detail).toContain("content of record 7");
    }
  });

  it("adjacent swap with MACs is 'reordered'", async () => {
    const { home, ks } = await withHistory();
    const result = await tamper(home, ks, (db) => {
      db.exec("UPDATE audit SET seq = -1 WHERE seq = 5; UPDATE audit SET seq = 5 WHERE seq = 6; UPDATE audit SET seq = 6 WHERE seq = -1;");
    });
    expect(result.problems.map((p) => [p.seq, p.kind])).toEqual([
      [5, "reordered"],
      [6, "reordered"],
    ]);
  });

  it("a forged record is 'inserted'", async () => {
    const { home, ks } = await withHistory();
    const result = await tamper(home, ks, (db) => {
      db.prepare(
        "INSERT INTO audit (seq, time, principal, operation, key_name, key_version, outcome, mac) VALUES (10, '2026-01-01T00:00:00.000Z', 'alice', 'decrypt', 'k', 2, 'ok', ?)",
      ).run(Buffer.alloc(32, 1));
    });
    expect(result.problems).toEqual([expect.objectContaining({ seq: 10, kind: "inserted" })]);
  });

  it("a forged record with a rewritten head anchor is still reported", async () => {
    const { home, ks } = await withHistory();
    const mac = Buffer.alloc(32, 2);
    const result = await tamper(home, ks, (db) => {
      db.prepare("INSERT INTO audit (seq, time, principal, operation, outcome, mac) VALUES (10, 't', 'p', 'decrypt', 'ok', ?)").run(mac);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify({ seq: 10, mac: mac.toString("hex") }));
    });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.seq)).toEqual([10]);
  });

  it("the keystore keeps appending after tampering; problems stay reported", async () => {
    const { home, ks } = await withHistory();
    await tamper(home, ks, (db) => db.prepare("DELETE FROM audit WHERE seq = 9").run());
    const again = track(await openKeystore(home));
    again.createKey("z");
    const result = again.verifyAudit();
    expect(result.problems.map((p) => [p.seq, p.kind])).toEqual([[9, "deleted"]]);
  });
});

describe("fail closed", () => {
  it("an extra sink that throws makes unwrap fail with AUDIT_WRITE_FAILED and return nothing", async () => {
    const { home, ks } = await freshStore();
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    ks.close();
    let fail = false;
    const seen: AuditEvent[] = [];
    const sink: AuditSink = {
      append(event) {
        if (fail) throw new Error("SIEM unreachable");
        seen.push(event);
      },
    };
    const open = track(await openKeystore(home, { auditSink: sink }));
    expect((await open.unwrap(entry, ctx, { operation: "decrypt" })).length).toBe(32);
    expect(seen.at(-1)).toMatchObject({ operation: "decrypt", outcome: "ok", keyName: "k" });
    fail = true;
    let returned: unknown = "nothing";
    const err = await expectCode(async () => {
      returned = await open.unwrap(entry, ctx, { operation: "decrypt" });
    }, "AUDIT_WRITE_FAILED");
    expect(returned).toBe("nothing");
    expect(err.name).toBe("AuditError");
    await expectCode(() => open.rewrap(entry, ctx, { operation: "rewrap" }), "AUDIT_WRITE_FAILED");
    // an admin change whose record fails is rolled back
    await expectCode(() => open.rotateKey("k"), "AUDIT_WRITE_FAILED");
    fail = false;
    expect(open.showKey("k").primaryVersion).toBe(1);
  });

  it("a real SQLite failure writing the record (the audit table refuses inserts) fails closed", async () => {
    const { home, ks } = await freshStore();
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    ks.close();
    const db = new Database(path.join(home, "keystore.db"));
    db.exec("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;");
    db.close();
    const open = track(await openKeystore(home));
    const err = await expectCode(() => open.unwrap(entry, ctx, { operation: "decrypt" }), "AUDIT_WRITE_FAILED");
    expect(String((err as Error & { cause?: Error }).cause?.message)).toContain("full");
    await expectCode(() => open.rotateKey("k"), "AUDIT_WRITE_FAILED");
    expect(open.showKey("k").versions.length).toBe(1);
    await expectCode(() => open.createKey("k2"), "AUDIT_WRITE_FAILED");
    expect(open.listKeys().length).toBe(1);
  });
});
