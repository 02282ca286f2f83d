/**
 * `audit verify` over the built CLI catches a privacy ledger changed behind pipeseal's back:
 * each case edits keystore.db in SQL (as someone who can write the file would, and as
 * ledger.test.ts does at the library level), shows the change is live where it matters, then
 * checks `audit verify` exits 4 with KEYSTORE_CORRUPT naming the problem, while the audit
 * chain itself still verifies (only the ledger check can see these).
 */
import { cpSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../cli/run-cli.js";
import { tempDir } from "../helpers/keystore.js";

let dir: string;
let template: string;
let input: string;
let copies = 0;

// each CLI call starts a process (1.5–5 s on a loaded 2-core machine): the keystore with its
// budget and two recorded spends is made once, and each case tampers with a copy of it
beforeAll(() => {
  dir = tempDir("pipeseal-dp-verify-");
  template = path.join(dir, "template");
  input = path.join(dir, "customers.csv");
  writeFileSync(input, "id,country\n" + Array.from({ length: 50 }, (_, i) => `${i},${i % 2 ? "DE" : "FR"}\n`).join(""));
  const env = { PIPESEAL_HOME: template, PIPESEAL_PRINCIPAL: "analyst" };
  for (const args of [
    ["init"],
    ["dp", "budget", "set", "b", "--epsilon", "1"],
    ["dp", "count", input, "--epsilon", "0.4", "--budget", "b"],
    ["dp", "count", input, "--epsilon", "0.4", "--budget", "b"],
  ]) {
    const r = cli(args, env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  }
}, 120_000);

/** A copy of the template keystore: its environment, and `sql` to run statements on its keystore.db directly. */
function tampered() {
  const home = path.join(dir, `ks-${++copies}`);
  cpSync(template, home, { recursive: true });
  const env = { PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "analyst" };
  const sql = (...statements: string[]) => {
    const raw = new Database(path.join(home, "keystore.db"));
    try {
      for (const s of statements) raw.exec(s);
    } finally {
      raw.close();
    }
  };
  const spends = () => JSON.parse(cli(["dp", "budget", "show", "b", "--json"], env).stdout.toString()).spends as { id: string; principal: string }[];
  return { env, sql, spends };
}

/** `audit verify` fails with exit 4 and KEYSTORE_CORRUPT, its first problem of `kind`, the chain itself intact. */
function expectVerifyFails(env: Record<string, string>, kind: string, problems = 1): string {
  const r = cli(["audit", "verify"], env);
  expect(r.status).toBe(4);
  const out = r.stdout.toString();
  expect(out).toMatch(/^audit chain ok: \d+ records$/m);
  expect(out).toMatch(new RegExp(`^privacy budget b entry [0-9a-z-]+: ${kind} \\(does not match its audit record\\)$`, "m"));
  expect(r.stderr).toBe(`pipeseal: the privacy ledger does not match the audit chain: ${problems} problem(s), first ${kind} in budget b [KEYSTORE_CORRUPT]\n`);
  return out;
}

describe("audit verify (the built CLI) catches a tampered privacy ledger", () => {
  it("passes on the untouched ledger", () => {
    const { env } = tampered();
    const r = cli(["audit", "verify"], env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("privacy ledger ok: 1 budgets, 2 spends");
  }, 60_000);

  it("an edited spend (a smaller ε, to regain budget): edited", () => {
    const { env, sql } = tampered();
    sql("UPDATE dp_spends SET epsilon = '1/1000'");
    expect(cli(["dp", "count", input, "--epsilon", "0.5", "--budget", "b"], env).status).toBe(0); // the edit bought budget…
    expectVerifyFails(env, "edited", 2); // …and verify catches it
  }, 60_000);

  it("a deleted spend (to regain budget): deleted", () => {
    const { env, sql, spends } = tampered();
    expect(cli(["dp", "count", input, "--epsilon", "0.5", "--budget", "b"], env).status).toBe(7); // 0.2 left
    const [gone] = spends();
    sql(`DELETE FROM dp_spends WHERE id = '${gone!.id}'`);
    expect(cli(["dp", "count", input, "--epsilon", "0.5", "--budget", "b"], env).status).toBe(0); // the deletion bought budget…
    expect(expectVerifyFails(env, "deleted")).toContain(`entry ${gone!.id}: deleted`); // …and verify names the entry
  }, 60_000);

  it("a replayed spend: a recorded row copied under a new id (unrecorded), or under its own id once the key is gone (duplicated)", () => {
    const copy = tampered();
    copy.sql("INSERT INTO dp_spends SELECT 'replayed-' || id, budget, epsilon, rho, mechanism, query, input, principal, at FROM dp_spends WHERE rowid = 1");
    expect(copy.spends()).toHaveLength(3); // the replay counts against the budget…
    expect(expectVerifyFails(copy.env, "unrecorded")).toMatch(/entry replayed-[0-9a-f-]+: unrecorded/); // …and is caught

    // the same id twice needs the table rebuilt without its primary key: SQL that whoever can write the file can run
    const same = tampered();
    same.sql(
      "CREATE TABLE dp_spends_copy AS SELECT * FROM dp_spends",
      "DROP INDEX dp_spends_budget",
      "DROP TABLE dp_spends",
      "ALTER TABLE dp_spends_copy RENAME TO dp_spends",
      "INSERT INTO dp_spends SELECT * FROM dp_spends WHERE rowid = 1",
    );
    expect(same.spends()).toHaveLength(3);
    expectVerifyFails(same.env, "duplicated");
  }, 60_000);

  it("an inserted spend (a query nobody ran, in someone else's name): unrecorded", () => {
    const { env, sql, spends } = tampered();
    sql(
      `INSERT INTO dp_spends (id, budget, epsilon, rho, mechanism, query, input, principal, at) VALUES ('00000000-0000-4000-8000-000000000000', 'b', '1/10', NULL, 'laplace', 'count', '/data/other.csv', 'someone-else', ${Date.now()})`,
    );
    expect(spends().map((s) => s.principal)).toContain("someone-else"); // budget show lists it…
    expect(expectVerifyFails(env, "unrecorded")).toContain("entry 00000000-0000-4000-8000-000000000000: unrecorded"); // …verify does not accept it
  }, 60_000);
});
