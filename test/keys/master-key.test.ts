import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION, initKeystore, openKeystore } from "../../src/keys/index.js";
import { dataKey, expectCode, tempHome, track } from "./helpers.js";

describe("master key", () => {
  it("init with a file: folder 0700, master.key 0600 with 32 bytes, keystore opens", async () => {
    const home = tempHome();
    await initKeystore(home);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const keyFile = path.join(home, "master.key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(keyFile).size).toBe(32);
    const ks = track(await openKeystore(home));
    expect(ks.id).toBe("local");
    expect(ks.listAudit()[0]?.operation).toBe("init");
  });

  it("init with a passphrase: no key file, scrypt params in meta, wrong passphrase fails", async () => {
    const home = tempHome();
    await initKeystore(home, { passphrase: "correct horse battery staple" });
    expect(existsSync(path.join(home, "master.key"))).toBe(false);
    const db = new Database(path.join(home, "keystore.db"), { readonly: true });
    const params = JSON.parse((db.prepare("SELECT value FROM meta WHERE key = 'master_scrypt'").get() as { value: string }).value);
    db.close();
    expect(params).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
    expect(Buffer.from(params.salt, "base64").length).toBe(16);

    const ks = track(await openKeystore(home, { passphrase: "correct horse battery staple" }));
    ks.createKey("k");
    const entry = await ks.wrap("k", dataKey(), {});
    ks.close();
    await expectCode(() => openKeystore(home, { passphrase: "wrong horse" }), "MASTER_KEY_WRONG");
    await expectCode(() => openKeystore(home), "MASTER_KEY_UNAVAILABLE");
    const again = track(await openKeystore(home, { passphrase: "correct horse battery staple" }));
    expect((await again.unwrap(entry, {}, { operation: "unwrap" })).length).toBe(32);
  });

  it("refuses a group/world-readable master.key with a chmod hint", async () => {
    const home = tempHome();
    await initKeystore(home);
    const keyFile = path.join(home, "master.key");
    chmodSync(keyFile, 0o644);
    const err = await expectCode(() => openKeystore(home), "MASTER_KEY_INSECURE");
    expect(err.message).toContain(`chmod 600 ${keyFile}`);
  });

  it("wrong-size master.key is unavailable; a different 32-byte key is wrong", async () => {
    const home = tempHome();
    await initKeystore(home);
    const keyFile = path.join(home, "master.key");
    writeFileSync(keyFile, Buffer.alloc(31), { mode: 0o600 });
    await expectCode(() => openKeystore(home), "MASTER_KEY_UNAVAILABLE");
    writeFileSync(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    await expectCode(() => openKeystore(home), "MASTER_KEY_WRONG");
  });

  it("init twice → KEYSTORE_EXISTS; open without init → KEYSTORE_NOT_INITIALIZED", async () => {
    const home = tempHome();
    await expectCode(() => openKeystore(home), "KEYSTORE_NOT_INITIALIZED");
    await initKeystore(home);
    await expectCode(() => initKeystore(home), "KEYSTORE_EXISTS");
    await expectCode(() => initKeystore(home, { passphrase: "x" }), "KEYSTORE_EXISTS");
  });

  it("sets the database pragmas (WAL, synchronous FULL, secure_delete) and a schema version", async () => {
    const home = tempHome();
    await initKeystore(home);
    const ks = track(await openKeystore(home));
    ks.close();
    const db = new Database(path.join(home, "keystore.db"));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value).toBe(String(SCHEMA_VERSION));
    db.close();
    expect(statSync(path.join(home, "keystore.db")).mode & 0o777).toBe(0o600);
  });
});
