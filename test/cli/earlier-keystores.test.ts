/**
 * Keystores made by earlier releases (test/keys/fixtures: schema versions 1 to 4, each made by
 * the built CLI of a commit that had it) open with today's CLI: migrated to the current schema
 * in one step, their keys in the state they were left (version 1 disabled, version 2 primary),
 * their sealed files decrypting as before, their audit chain verifying, and their schema then the
 * same as a keystore born today. Each fixture is used on a copy.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { migrationsOf } from "../../src/keys/schema-history.js";
import { tempDir } from "../helpers/keystore.js";
import { sqliteSchema } from "../helpers/schema.js";
import { cli } from "./run-cli.js";

const FIXTURES = fileURLToPath(new URL("../keys/fixtures/", import.meta.url));
const EARLIER = [
  ["keystore-v1", 1],
  ["keystore-v2", 2],
  ["keystore-v3", 3],
  ["legacy-v4", 4],
] as const;

function schemaOf(home: string): { version: string | undefined; objects: string[] } {
  const db = new Database(path.join(home, "keystore.db"), { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    return { version: row?.value, objects: sqliteSchema(db) };
  } finally {
    db.close();
  }
}

/** A copy of a fixture as a keystore home (git keeps no 0600 mode, so it is set here). */
function copyOf(fixture: string) {
  const dir = tempDir("pipeseal-earlier-");
  const home = path.join(dir, "home");
  mkdirSync(home, { mode: 0o700 });
  for (const f of readdirSync(path.join(FIXTURES, fixture))) {
    const to = f.endsWith(".pseal") ? path.join(dir, f) : path.join(home, f);
    copyFileSync(path.join(FIXTURES, fixture, f), to);
    chmodSync(to, 0o600);
  }
  const env = { PIPESEAL_HOME: home, PIPESEAL_PRINCIPAL: "alice" };
  return { dir, home, run: (...args: string[]) => cli(args, env) };
}

describe("keystores made by earlier releases", () => {
  let current: ReturnType<typeof schemaOf>;
  beforeAll(() => {
    const today = path.join(tempDir("pipeseal-today-"), "home");
    expect(cli(["init"], { PIPESEAL_HOME: today, PIPESEAL_PRINCIPAL: "alice" }).status).toBe(0);
    current = schemaOf(today);
  });

  it.each(EARLIER)("%s (schema %i) opens, migrated, with its keys, files and chain", (fixture, version) => {
    const { dir, home, run } = copyOf(fixture);
    expect(schemaOf(home).version).toBe(String(version));

    const show = run("key", "show", "legacy/k", "--json");
    expect(show.stderr).toBe("");
    expect((JSON.parse(show.stdout.toString()) as { versions: { state: string }[] }).versions.map((v) => v.state)).toEqual(["disabled", "enabled"]);
    expect(schemaOf(home).version).toBe(String(migrationsOf("keystore").length));

    const v2 = run("decrypt", path.join(dir, "v2.txt.pseal"), "-o", "-");
    expect(v2.stderr).toBe("");
    expect(v2.stdout.toString()).toBe("v2 data\n");
    const v1 = run("decrypt", path.join(dir, "v1.txt.pseal"), "-o", "-");
    expect(v1.status).not.toBe(0);
    expect(v1.stderr).toContain("[KEY_DISABLED]");
    expect(v1.stdout.length).toBe(0);

    // the keystore keeps working: a new version, a new file under it
    expect(run("key", "rotate", "legacy/k").status).toBe(0);
    expect(run("key", "enable", "legacy/k", "--version", "1").status).toBe(0);
    expect(run("decrypt", path.join(dir, "v1.txt.pseal"), "-o", "-").stdout.toString()).toBe("v1 data\n");
    const verify = run("audit", "verify");
    expect(verify.stderr).toBe("");
    expect(verify.status).toBe(0);

    // the CLI commands above may add capability tables; every table of a keystore born today is there, the same
    const migrated = schemaOf(home).objects;
    expect(current.objects.length).toBeGreaterThan(5);
    for (const object of current.objects) expect(migrated).toContain(object);
  });
});
