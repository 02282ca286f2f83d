/**
 * The keystore's own defences against the local user next door, through the built CLI: a
 * keystore folder others can write (swap in their own database and master key), a database
 * others can read or write, a passphrase file others can read, a weak new passphrase, a
 * database locked by another process, and subject ids kept out of argv.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { subjectKeys } from "../../src/fields/subjects/index.js";
import { openKeystore } from "../../src/keys/index.js";
import { fileURLToPath } from "node:url";
import { tempDir } from "../helpers/keystore.js";
import { CLI, cli, type CliResult } from "./run-cli.js";

const root = tempDir("pipeseal-hardening-");
let n = 0;

/** A fresh keystore (master.key) with key k; returns its env. */
function keystore(): { home: string; env: Record<string, string> } {
  const home = path.join(root, `ks${++n}`);
  const env = { PIPESEAL_HOME: home };
  expect(cli(["init"], env).status).toBe(0);
  expect(cli(["key", "create", "k"], env).status).toBe(0);
  return { home, env };
}

function expectRefused(r: CliResult, code: string, exit: number): void {
  expect(r.status, r.stderr).toBe(exit);
  expect(r.stderr).toMatch(new RegExp(`^pipeseal: [^\\n]+ \\[${code}\\]\\n$`));
}

describe("keystore folder and database permissions", () => {
  it("a world-writable keystore folder is refused: a swapped-in database and master key are never used", () => {
    const victim = keystore();
    const attacker = keystore();
    const plain = path.join(root, "secret.csv");
    writeFileSync(plain, "ssn,123-45-6789\n");
    chmodSync(victim.home, 0o777);
    // another user swaps in their own keystore (they hold its master key)
    for (const f of ["keystore.db", "master.key"]) copyFileSync(path.join(attacker.home, f), path.join(victim.home, f));
    const r = cli(["encrypt", "--key", "k", plain, "-o", path.join(root, "secret.csv.pseal")], victim.env);
    expectRefused(r, "KEYSTORE_INSECURE", 4);
    expect(r.stderr).toContain(`writable by group or others (mode 0777)`);
    expect(r.stderr).toContain(`run: chmod 700 ${victim.home}`);
    expect(existsSync(path.join(root, "secret.csv.pseal"))).toBe(false);
    chmodSync(victim.home, 0o770); // group-writable is the same hole
    expectRefused(cli(["key", "list"], victim.env), "KEYSTORE_INSECURE", 4);
    chmodSync(victim.home, 0o755); // others may list it, not write it
    expect(cli(["key", "list"], victim.env).status).toBe(0);
  });

  it("init into an existing folder others can write is refused before any key is made", () => {
    const home = path.join(root, "open-folder");
    mkdirSync(home);
    chmodSync(home, 0o777);
    expectRefused(cli(["init"], { PIPESEAL_HOME: home }), "KEYSTORE_INSECURE", 4);
    expect(existsSync(path.join(home, "master.key"))).toBe(false);
  });

  it("a keystore folder owned by another user is refused", () => {
    const ks = keystore();
    if (process.getuid?.() !== 0) return expect(cli(["key", "list"], ks.env).status).toBe(0); // only root can hand a folder to another user
    chownSync(ks.home, 65534, 65534);
    const r = cli(["key", "list"], ks.env);
    expectRefused(r, "KEYSTORE_INSECURE", 4);
    expect(r.stderr).toContain("belongs to uid 65534");
  });

  it("keystore.db others can write is refused; one others can read works with one warning on stderr", async () => {
    const ks = keystore();
    const db = path.join(ks.home, "keystore.db");
    chmodSync(db, 0o666);
    expectRefused(cli(["key", "list"], ks.env), "KEYSTORE_INSECURE", 4);
    chmodSync(db, 0o644);
    const r = cli(["key", "list"], ks.env);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `pipeseal: warning: the keystore database ${db} is readable by group or others (mode 0644): its keys are sealed, but its audit log names objects and principals; run: chmod 600 ${db}\n`,
    );
    // once per process, however often it is opened
    const warnings: string[] = [];
    for (let i = 0; i < 3; i++) (await openKeystore(ks.home, { onWarning: (m) => warnings.push(m) })).close();
    expect(warnings).toHaveLength(1);
    chmodSync(db, 0o600);
    expect(cli(["key", "list"], ks.env).stderr).toBe("");
  });
});

describe("passphrases", () => {
  const home = path.join(root, "pass-ks");
  const env = (file: string) => ({ PIPESEAL_HOME: home, PIPESEAL_PASSPHRASE_FILE: file });
  const passFile = (name: string, text: string, mode: number) => {
    const f = path.join(root, name);
    writeFileSync(f, text + "\n", { mode });
    chmodSync(f, mode);
    return f;
  };

  it("a passphrase file group or others can read is refused, at init and at open", () => {
    const strong = "violet anchor lantern meadow 42";
    const leaky = passFile("leaky.txt", strong, 0o644);
    const r = cli(["init", "--passphrase"], env(leaky));
    expectRefused(r, "MASTER_KEY_INSECURE", 4);
    expect(r.stderr).toContain(`run: chmod 600 ${leaky}`);
    expect(existsSync(home)).toBe(false);
    const good = passFile("good.txt", strong, 0o600);
    expect(cli(["init", "--passphrase"], env(good)).status).toBe(0);
    expectRefused(cli(["key", "list"], env(leaky)), "MASTER_KEY_INSECURE", 4);
    expect(cli(["key", "list"], env(good)).status).toBe(0);
  });

  it("a weak passphrase is refused for a new keystore, and nothing is created", () => {
    for (const weak of ["hunt2", "password1234", "aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "hunter2hunter2hunter2"]) {
      const where = path.join(root, `weak-${weak.length}-${weak[0]}`);
      const r = cli(["init", "--passphrase"], { PIPESEAL_HOME: where, PIPESEAL_PASSPHRASE_FILE: passFile(`w-${weak}.txt`, weak, 0o600) });
      expectRefused(r, "PASSPHRASE_WEAK", 2);
      expect(r.stderr).not.toContain(weak); // the message never echoes the passphrase
      expect(existsSync(path.join(where, "keystore.db"))).toBe(false);
    }
  });

  it("an existing keystore whose passphrase predates the rule still opens with it", () => {
    // made by the previous release with the 5-character passphrase "hunt2" (fixtures/weak-passphrase-v4/README.md)
    const old = path.join(root, "old-ks");
    mkdirSync(old, { mode: 0o700 });
    copyFileSync(fileURLToPath(new URL("./fixtures/weak-passphrase-v4/keystore.db", import.meta.url)), path.join(old, "keystore.db"));
    chmodSync(path.join(old, "keystore.db"), 0o600);
    const r = cli(["key", "create", "k"], { PIPESEAL_HOME: old, PIPESEAL_PASSPHRASE_FILE: passFile("old-weak.txt", "hunt2", 0o600) });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("a database locked by another process", () => {
  it("is KEYSTORE_BUSY after the busy timeout, one line, exit 4; nothing is released; readers still work", () => {
    const ks = keystore();
    const file = path.join(root, "f.txt");
    writeFileSync(file, "hello\n");
    expect(cli(["encrypt", "--key", "k", file, "-o", `${file}.pseal`], ks.env).status).toBe(0);
    const lock = new Database(path.join(ks.home, "keystore.db"));
    lock.prepare("BEGIN IMMEDIATE").run(); // as a backup or an open sqlite3 shell would
    try {
      const write = cli(["key", "create", "other"], ks.env);
      expectRefused(write, "KEYSTORE_BUSY", 4);
      expect(write.stderr).toContain(`${path.join(ks.home, "keystore.db")} is locked by another process (waited 5 s)`);
      const open = cli(["decrypt", `${file}.pseal`, "-o", "-"], ks.env); // its audit record cannot be written: fail closed
      expectRefused(open, "KEYSTORE_BUSY", 4);
      expect(open.stdout.length).toBe(0);
      const t = Date.now();
      expect(cli(["key", "list"], ks.env).status).toBe(0); // a reader does not need the write lock
      expect(Date.now() - t).toBeLessThan(4000);
    } finally {
      lock.prepare("ROLLBACK").run();
      lock.close();
    }
    expect(cli(["key", "create", "other"], ks.env).status).toBe(0);
    expect(cli(["audit", "verify"], ks.env).status).toBe(0);
  }, 60_000);
});

describe("wording and subject ids", () => {
  it("key disable, enable and destroy print their past tense", () => {
    const ks = keystore();
    expect(cli(["key", "rotate", "k"], ks.env).status).toBe(0);
    expect(cli(["key", "disable", "k", "--version", "1"], ks.env).stdout.toString()).toBe("disabled k v1\n");
    expect(cli(["key", "enable", "k", "--version", "1"], ks.env).stdout.toString()).toBe("enabled k v1\n");
    expect(cli(["key", "destroy", "k", "--version", "1", "--yes"], ks.env).stdout.toString()).toBe("destroyed k v1\n");
  });

  it("subject erase - reads the id from stdin: it never appears in the process's argv", async () => {
    const ks = keystore();
    const id = "erin@example.com";
    const handle = await openKeystore(ks.home, { principal: "tester" });
    await subjectKeys(handle).keys("customers", [id, "finn@example.com"], "fields/email");
    handle.close();
    const child = spawn(process.execPath, [CLI, "subject", "erase", "-", "--namespace", "customers", "--json", "--yes"], {
      env: { PATH: process.env.PATH ?? "", ...ks.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 300)); // it is running, waiting for stdin
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8");
    expect(cmdline).toContain("subject");
    expect(cmdline).not.toContain("erin");
    child.stdin.end(`${id}\n`);
    expect(await exited).toBe(0);
    expect(JSON.parse(stdout).erased).toHaveLength(1);
    expect(stdout).not.toContain("erin");
    const idsFile = path.join(root, "ids.txt");
    writeFileSync(idsFile, `${id}\nfinn@example.com\n`, { mode: 0o600 });
    const status = cli(["subject", "status", "--from-file", idsFile, "--namespace", "customers", "--json"], ks.env);
    expect((JSON.parse(status.stdout.toString()) as { state: string }[]).map((s) => s.state)).toEqual(["erased", "active"]);
    expect(cli(["subject", "erase", "--from-file", idsFile, "--namespace", "customers", "--yes"], ks.env).status).toBe(0);
    expect(cli(["subject", "status", "-", "--namespace", "customers", "--json"], ks.env, "finn@example.com\n").stdout.toString()).toContain('"erased"');
    expectRefused(cli(["subject", "erase", id, "--from-file", idsFile], ks.env), "INVALID_ARGUMENT", 2);
    const help = spawnSync(process.execPath, [CLI, "subject", "erase", "--help"]).stdout.toString();
    expect(help).toMatch(/personal data/);
    expect(help).toMatch(/\bps\b.*shell history|shell history.*\bps\b/s);
    expect(help).toContain("--from-file");
  });
});
