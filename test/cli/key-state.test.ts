/**
 * Key state edited in keystore.db behind pipeseal's back (a real SQLite connection to the real
 * file, the built CLI): re-enabling a disabled version, lowering the minimum decryption
 * version, resetting a wrap count, swapping a state MAC between versions, writing back a row
 * saved before a disable. Each is KEYSTORE_CORRUPT, never a silent success. A keystore made
 * before key-state MACs (a fixture written by the previous release) is sealed on first open.
 */
import { copyFileSync, chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { cli } from "./run-cli.js";

const FIXTURE = fileURLToPath(new URL("../keys/fixtures/legacy-v4/", import.meta.url));

function keystore(name: string, extra: Record<string, string> = {}) {
  const dir = path.join(tempDir("pipeseal-keystate-"), name);
  mkdirSync(dir);
  const env = { PIPESEAL_HOME: path.join(dir, "home"), PIPESEAL_PRINCIPAL: "alice", ...extra };
  const run = (...args: string[]) => cli(args, env);
  const sql = (statement: string) => {
    const db = new Database(path.join(env.PIPESEAL_HOME, "keystore.db"));
    try {
      db.pragma("busy_timeout = 5000");
      db.exec(statement);
    } finally {
      db.close();
    }
  };
  const seal = (file: string, text: string) => {
    writeFileSync(path.join(dir, file), text);
    expect(run("encrypt", "-k", "k", "-c", "stage=test", path.join(dir, file)).status).toBe(0);
    return path.join(dir, `${file}.pseal`);
  };
  return { dir, env, run, sql, seal };
}

/** Fails with this code, one line, no stack trace. */
function refused(r: ReturnType<typeof cli>, code = "KEYSTORE_CORRUPT"): void {
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("key state is authenticated (built CLI, SQL edits on the real keystore.db)", () => {
  it("a disabled version re-enabled in SQL: decrypt, key show, key list and audit verify refuse; the refusal is audited", () => {
    const { run, sql, seal } = keystore("reenable");
    expect(run("init").status).toBe(0);
    expect(run("key", "create", "k").status).toBe(0);
    const v1 = seal("a.txt", "under v1");
    expect(run("key", "rotate", "k").status).toBe(0);
    expect(run("key", "disable", "k", "--version", "1").status).toBe(0);
    refused(run("decrypt", v1, "-o", "-"), "KEY_DISABLED");

    sql("UPDATE key_versions SET state = 'enabled' WHERE key_name = 'k' AND version = 1");
    const dec = run("decrypt", v1, "-o", "-");
    refused(dec);
    expect(dec.stdout.toString()).toBe("");
    const show = run("key", "show", "k");
    refused(show);
    expect(show.stderr).toContain("k v1 does not authenticate");
    refused(run("key", "list"));
    const verify = run("audit", "verify", "--json");
    expect(verify.status).not.toBe(0);
    expect(JSON.parse(verify.stdout.toString())).toMatchObject({ ok: false, keyState: { ok: false, problems: [{ keyName: "k", version: 1 }] } });
    // the admin path does not launder it either
    refused(run("key", "disable", "k", "--version", "1"));
    const records = JSON.parse(run("audit", "list", "--json").stdout.toString()) as { operation: string; errorCode: string | null }[];
    expect(records.filter((r) => r.operation === "decrypt" && r.errorCode === "KEYSTORE_CORRUPT")).toHaveLength(1);

    sql("UPDATE key_versions SET state = 'disabled' WHERE key_name = 'k' AND version = 1"); // put back exactly: authentic again
    expect(run("key", "show", "k").status).toBe(0);
    expect(run("audit", "verify").status).toBe(0);
  });

  it("a minimum decryption version lowered in SQL is refused", () => {
    const { run, sql, seal } = keystore("min");
    run("init");
    run("key", "create", "k");
    const v1 = seal("a.txt", "under v1");
    run("key", "rotate", "k");
    expect(run("key", "set", "k", "--min-decrypt-version", "2").status).toBe(0);
    refused(run("decrypt", v1, "-o", "-"), "KEY_BELOW_MIN_VERSION");
    sql("UPDATE keys SET min_decrypt_version = 1 WHERE name = 'k'");
    refused(run("decrypt", v1, "-o", "-"));
    refused(run("encrypt", "-k", "k", v1, "-o", "-"));
  });

  it("a wrap count reset in SQL is refused at the next wrap", () => {
    const { run, sql, seal } = keystore("count");
    run("init");
    run("key", "create", "k");
    seal("a.txt", "one");
    seal("b.txt", "two");
    expect(JSON.parse(run("key", "show", "k", "--json").stdout.toString()).versions[0].wrapCount).toBe(2);
    sql("UPDATE key_versions SET wrap_count = 0 WHERE key_name = 'k'");
    refused(run("encrypt", "-k", "k", "-c", "stage=test", "-o", "-", "-"));
    refused(run("key", "show", "k"));
  });

  it("a state MAC swapped in from another version, or a row saved while enabled and written back after a disable, is refused", () => {
    const { run, sql, seal } = keystore("swap");
    run("init");
    run("key", "create", "k");
    const v1 = seal("a.txt", "under v1");
    run("key", "rotate", "k");
    sql("CREATE TABLE saved AS SELECT * FROM key_versions WHERE key_name = 'k' AND version = 1");
    expect(run("key", "disable", "k", "--version", "1").status).toBe(0);
    sql(`UPDATE key_versions SET state = 'enabled', wrap_count = (SELECT wrap_count FROM key_versions WHERE version = 2),
         state_mac = (SELECT state_mac FROM key_versions WHERE version = 2) WHERE key_name = 'k' AND version = 1`);
    refused(run("decrypt", v1, "-o", "-"));
    // the saved row carries an authentic MAC, but of an older generation of the key
    sql(
      "UPDATE key_versions SET state = s.state, wrap_count = s.wrap_count, state_gen = s.state_gen, state_mac = s.state_mac FROM saved s WHERE key_versions.key_name = 'k' AND key_versions.version = 1",
    );
    refused(run("decrypt", v1, "-o", "-"));
  });

  it("with a passphrase root: write access to keystore.db does not re-enable a version", () => {
    const dir = tempDir("pipeseal-keystate-pass-");
    const pass = path.join(dir, "pass");
    writeFileSync(pass, "correct horse battery staple\n", { mode: 0o600 });
    const { run, sql, seal } = keystore("passphrase", { PIPESEAL_PASSPHRASE_FILE: pass });
    expect(run("init", "--passphrase").status).toBe(0);
    run("key", "create", "k");
    const v1 = seal("a.txt", "under v1");
    run("key", "rotate", "k");
    run("key", "disable", "k", "--version", "1");
    sql("UPDATE key_versions SET state = 'enabled' WHERE key_name = 'k' AND version = 1");
    refused(run("decrypt", v1, "-o", "-"));
  });

  it("a keystore made before key-state MACs is sealed on first open: states kept, the sealing audited, later edits refused", () => {
    const { dir, env, run, sql } = keystore("legacy");
    mkdirSync(env.PIPESEAL_HOME, { mode: 0o700 });
    for (const f of ["keystore.db", "master.key"]) copyFileSync(path.join(FIXTURE, f), path.join(env.PIPESEAL_HOME, f));
    chmodSync(path.join(env.PIPESEAL_HOME, "master.key"), 0o600);
    chmodSync(path.join(env.PIPESEAL_HOME, "keystore.db"), 0o600); // a readable database would add a warning line
    const [v1, v2] = ["v1.txt.pseal", "v2.txt.pseal"].map((f) => {
      copyFileSync(path.join(FIXTURE, f), path.join(dir, f));
      return path.join(dir, f);
    }) as [string, string];

    const info = JSON.parse(run("key", "show", "legacy/k", "--json").stdout.toString());
    expect(info.versions.map((v: { state: string }) => v.state)).toEqual(["disabled", "enabled"]);
    expect(run("decrypt", v2, "-o", "-").stdout.toString()).toBe("v2 data\n");
    refused(run("decrypt", v1, "-o", "-"), "KEY_DISABLED");
    const ops = (JSON.parse(run("audit", "list", "--json").stdout.toString()) as { operation: string }[]).map((r) => r.operation);
    expect(ops.filter((o) => o === "key.seal-state")).toHaveLength(1);
    expect(run("audit", "verify").status).toBe(0);

    sql("UPDATE key_versions SET state = 'enabled' WHERE version = 1");
    refused(run("decrypt", v1, "-o", "-"));
    // stripping the marker to have the edited row sealed as it is: refused (the chain holds key.seal-state)
    sql("DELETE FROM meta WHERE key = 'key_state_mac'; UPDATE key_versions SET state_mac = NULL; UPDATE keys SET state_mac = NULL");
    refused(run("key", "list"));
  });

  it("a keystore born sealed: a stripped marker and MACs are refused, not re-sealed", () => {
    const { run, sql, seal } = keystore("born");
    run("init");
    run("key", "create", "k");
    const v1 = seal("a.txt", "under v1");
    run("key", "rotate", "k");
    run("key", "disable", "k", "--version", "1");
    sql("DELETE FROM meta WHERE key = 'key_state_mac'; UPDATE key_versions SET state = 'enabled', state_mac = NULL; UPDATE keys SET state_mac = NULL");
    refused(run("decrypt", v1, "-o", "-"));
    refused(run("key", "list"));
  });
});
