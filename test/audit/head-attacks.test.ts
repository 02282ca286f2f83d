/**
 * Attacks on the audit head of a local keystore, as someone who can write keystore.db but
 * does not hold the master key would try them: real SQLite edits of the real file, checked
 * with the built CLI (`pipeseal audit verify`, and the commands that append).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { GENESIS_MAC, chainMac } from "../../src/audit/chain.js";
import type { AuditRow } from "../../src/audit/schema.js";
import { MasterKey } from "../../src/keys/master-key.js";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

let n = 0;
/** A keystore with init, key.create and `decrypts` decrypt records (seq 1..2+decrypts). */
function keystoreWithHistory(decrypts = 5): { env: Record<string, string>; db: string; run: (args: string[]) => ReturnType<typeof cli> } {
  const dir = tempDir("pipeseal-head-");
  const env = { PIPESEAL_HOME: path.join(dir, `ks${++n}`), PIPESEAL_PRINCIPAL: "alice" };
  const run = (args: string[]) => cli(args, env);
  expect(run(["init"]).status).toBe(0);
  expect(run(["key", "create", "k"]).status).toBe(0);
  writeFileSync(path.join(dir, "x"), "secret rows");
  expect(run(["encrypt", "--key", "k", path.join(dir, "x")]).status).toBe(0);
  for (let i = 0; i < decrypts; i++) expect(run(["decrypt", path.join(dir, "x.pseal"), "-o", "-"]).status).toBe(0);
  expect(run(["audit", "verify"]).status).toBe(0);
  return { env, db: path.join(env.PIPESEAL_HOME, "keystore.db"), run };
}

function edit(file: string, change: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    change(db);
  } finally {
    db.close();
  }
}

const macOf = (db: Database.Database, seq: number) => (db.prepare("SELECT mac FROM audit WHERE seq = ?").get(seq) as { mac: Buffer }).mac.toString("hex");
const lastSeq = (db: Database.Database) => (db.prepare("SELECT max(seq) AS s FROM audit").get() as { s: number }).s;

function expectBroken(r: ReturnType<typeof cli>, text?: RegExp): void {
  expect(r.status).toBe(5);
  expect(r.stderr).toContain("[AUDIT_CHAIN_BROKEN]");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (text) expect(r.stdout.toString()).toMatch(text);
}

// Each case runs the built CLI a dozen times or more: slow on a loaded machine, not a hang.
describe("audit head: tail truncation and wipe (local keystore, built CLI)", { timeout: 180_000 }, () => {
  it("deleting the last records and pointing the head at the record before fails verify (head written the old way, or with its old tag kept)", () => {
    for (const keepTag of [false, true]) {
      const { db, run } = keystoreWithHistory();
      edit(db, (d) => {
        const last = lastSeq(d);
        const keep = last - 3;
        const mac = macOf(d, keep);
        d.prepare("DELETE FROM audit WHERE seq > ?").run(keep);
        if (keepTag) d.prepare("UPDATE meta SET value = json_set(value, '$.seq', ?, '$.mac', ?) WHERE key = 'audit_head'").run(keep, mac);
        else d.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify({ seq: keep, mac }));
      });
      expectBroken(run(["audit", "verify"]), /truncated/);
      // nothing extends (and so re-authenticates) the forged head: audited work is refused
      expectBroken(run(["key", "create", "other"]));
      expectBroken(run(["audit", "verify"]), /truncated/);
    }
  });

  it("deleting every record and setting the head to seq 0 fails verify while keys exist", () => {
    for (const head of [
      { seq: 0, mac: "" },
      { seq: 0, mac: "", tag: "00".repeat(32) },
    ]) {
      const { db, run } = keystoreWithHistory(2);
      edit(db, (d) => {
        d.prepare("DELETE FROM audit").run();
        d.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify(head));
      });
      expect(JSON.parse(run(["key", "list", "--json"]).stdout.toString())).toHaveLength(1);
      expectBroken(run(["audit", "verify"]), /empty/);
      expectBroken(run(["key", "create", "other"]));
    }
  });

  it("editing the head's MAC, or only stripping its tag, fails verify", () => {
    const { db, run } = keystoreWithHistory(1);
    edit(db, (d) => d.prepare("UPDATE meta SET value = json_set(value, '$.tag', ?) WHERE key = 'audit_head'").run("ab".repeat(32)));
    expectBroken(run(["audit", "verify"]), /head's MAC does not verify/);
    edit(db, (d) => d.prepare("UPDATE meta SET value = json_remove(value, '$.tag') WHERE key = 'audit_head'").run());
    // looks like a keystore from before head MACs, but its init record says otherwise: not sealed again
    expectBroken(run(["audit", "verify"]), /no MAC of its own/);
    expectBroken(run(["key", "rotate", "k"]));
  });

  it("an untouched chain keeps verifying as it grows (the head's tag follows every commit)", () => {
    const { run } = keystoreWithHistory(3);
    expect(run(["key", "rotate", "k"]).status).toBe(0);
    const r = run(["audit", "verify", "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ ok: true, records: 6 });
  });
});

/**
 * A keystore as the previous release wrote it: the init record has no context and the head
 * no tag. Made from a current one by re-chaining its records with its master key.
 */
function makeLegacy(env: Record<string, string>, file: string): void {
  const master = MasterKey.fromRoot(readFileSync(path.join(env.PIPESEAL_HOME as string, "master.key")));
  try {
    edit(file, (d) => {
      const rows = d.prepare("SELECT * FROM audit ORDER BY seq").all() as AuditRow[];
      let prev = GENESIS_MAC;
      d.transaction(() => {
        for (const row of rows) {
          const fields = { ...row, context: row.operation === "init" ? null : row.context };
          prev = chainMac((x) => master.auditMac(x), prev, fields);
          d.prepare("UPDATE audit SET context = ?, mac = ? WHERE seq = ?").run(fields.context, prev, row.seq);
        }
        d.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify({ seq: rows.length, mac: prev.toString("hex") }));
      })();
    });
  } finally {
    master.close();
  }
}

describe("audit head: keystores from before head MACs", () => {
  it("are sealed on first open if their chain verifies (an audit.upgrade record), and are protected from then on", () => {
    const { env, db, run } = keystoreWithHistory(2);
    makeLegacy(env, db);
    const before = (() => {
      const d = new Database(db, { readonly: true });
      try {
        return lastSeq(d);
      } finally {
        d.close();
      }
    })();
    const verified = run(["audit", "verify", "--json"]);
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout.toString())).toMatchObject({ ok: true, records: before + 1 });
    const list = JSON.parse(run(["audit", "list", "--json"]).stdout.toString()) as { seq: number; operation: string; context: string | null }[];
    expect(list.at(-1)).toMatchObject({ seq: before + 1, operation: "audit.upgrade", context: JSON.stringify({ auditHead: "hmac-sha256-v1" }) });
    expect(run(["key", "rotate", "k"]).status).toBe(0);
    // truncating back to the upgrade record with the head rewritten the old way is caught: the marker stays
    edit(db, (d) => {
      d.prepare("DELETE FROM audit WHERE seq > ?").run(before + 1);
      d.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(JSON.stringify({ seq: before + 1, mac: macOf(d, before + 1) }));
    });
    expectBroken(run(["audit", "verify"]), /no MAC of its own/);
  });

  it("one whose chain does not verify is not sealed: it keeps working and verify keeps failing", () => {
    const { env, db, run } = keystoreWithHistory(2);
    makeLegacy(env, db);
    edit(db, (d) => d.prepare("UPDATE audit SET principal = 'mallory' WHERE seq = 3").run());
    expectBroken(run(["audit", "verify"]), /record 3: modified/);
    expect(run(["key", "rotate", "k"]).status).toBe(0);
    const r = run(["audit", "verify"]);
    expectBroken(r, /no MAC of its own/);
    expect(r.stdout.toString()).not.toMatch(/audit\.upgrade/);
  });
});
