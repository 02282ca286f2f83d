import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { SecretStore } from "../../src/secrets/index.js";
import { tempDir } from "../helpers/keystore.js";

async function fresh() {
  const home = path.join(tempDir(), "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "alice" });
  return { home, ks, store: new SecretStore(ks) };
}

/** Both files as raw bytes: what an attacker with a copy of the folder would search. */
function rawFiles(home: string): Buffer {
  const files = ["keystore.db", "keystore.db-wal"].map((f) => path.join(home, f)).filter((f) => existsSync(f));
  return Buffer.concat(files.map((f) => readFileSync(f)));
}

const SECRET = "sk-proj-Zq8wX2vB7nM4kL9pR3tY6uI1oE5aS0dF";

describe("secret store", () => {
  it("stores versions, reads the primary or a named version, and records who read it for what", async () => {
    const { ks, store } = await fresh();
    const info = await store.set("llm/openai", Buffer.from(SECRET));
    expect(info).toMatchObject({ name: "llm/openai", namespace: "llm", keyName: "secrets/llm", primaryVersion: 1, createdBy: "alice", lastRead: null });
    expect(ks.showKey("secrets/llm").primaryVersion).toBe(1); // created on first use
    const r2 = await store.set("llm/openai", Buffer.from(SECRET + "-v2"), "rotate");
    expect(r2.primaryVersion).toBe(2);
    const now = await store.read("llm/openai", { for: "run: python3 train.py" });
    expect([now.version, now.value.toString()]).toEqual([2, SECRET + "-v2"]);
    const old = await store.read("llm/openai", { version: 1, for: "test" });
    expect(old.value.toString()).toBe(SECRET);
    const shown = store.show("llm/openai");
    expect(shown.lastRead).toMatchObject({ by: "alice", for: "test", version: 1 });
    expect(JSON.stringify(store.list())).not.toContain(SECRET);
    const reads = ks.listAudit().filter((r) => r.operation === "secret.read");
    expect(reads).toHaveLength(2);
    expect(JSON.parse(reads[0]!.context!)).toMatchObject({ secret: "llm/openai", for: "run: python3 train.py" });
    expect(reads[0]!.principal).toBe("alice");
    expect(ks.listAudit().filter((r) => r.operation === "secret-read" && r.outcome === "ok")).toHaveLength(2);
    expect(JSON.stringify(ks.listAudit())).not.toContain(SECRET);
    expect(ks.verifyAudit().ok).toBe(true);
    ks.close();
  });

  it("rotate of a missing secret, and reads of missing names, are typed errors (the refused read is audited)", async () => {
    const { ks, store } = await fresh();
    await expect(store.set("llm/none", Buffer.from("v"), "rotate")).rejects.toMatchObject({ code: "SECRET_NOT_FOUND" });
    await expect(store.read("llm/none", { for: "t" })).rejects.toMatchObject({ code: "SECRET_NOT_FOUND" });
    await expect(store.set("Bad Name", Buffer.from("v"))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(store.set("a/b", Buffer.alloc(0))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(
      ks
        .listAudit()
        .filter((r) => r.operation === "secret.read")
        .map((r) => r.outcome),
    ).toEqual(["denied"]);
    ks.close();
  });

  it("disable / enable / destroy follow the key rules; the primary cannot be disabled or destroyed alone", async () => {
    const { ks, store } = await fresh();
    await store.set("ci/token", Buffer.from("one-aaaaaaaaaaaa"));
    await store.set("ci/token", Buffer.from("two-bbbbbbbbbbbb"));
    expect(() => store.disable("ci/token", 2)).toThrow(expect.objectContaining({ code: "SECRET_STATE_CONFLICT" }));
    expect(() => store.destroy("ci/token", 2)).toThrow(expect.objectContaining({ code: "SECRET_STATE_CONFLICT" }));
    store.disable("ci/token", 1);
    await expect(store.read("ci/token", { version: 1, for: "t" })).rejects.toMatchObject({ code: "SECRET_DISABLED" });
    store.enable("ci/token", 1);
    expect((await store.read("ci/token", { version: 1, for: "t" })).value.toString()).toBe("one-aaaaaaaaaaaa");
    store.destroy("ci/token", 1);
    await expect(store.read("ci/token", { version: 1, for: "t" })).rejects.toMatchObject({ code: "SECRET_DESTROYED" });
    expect(() => store.enable("ci/token", 1)).toThrow(expect.objectContaining({ code: "SECRET_STATE_CONFLICT" }));
    expect(store.show("ci/token").versions.map((v) => v.state)).toEqual(["destroyed", "enabled"]);
    store.destroy("ci/token", "all");
    await expect(store.read("ci/token", { for: "t" })).rejects.toMatchObject({ code: "SECRET_DESTROYED" });
    ks.close();
  });

  it("keystore.db and its WAL never hold a plaintext value, and after destroy not even its sealed bytes or wrapped key", async () => {
    const { home, ks, store } = await fresh();
    await store.set("llm/openai", Buffer.from(SECRET));
    await store.set("llm/openai", Buffer.from("second-value-" + SECRET));
    // while the WAL is live (before any checkpoint), and after reads
    await store.read("llm/openai", { version: 1, for: "t" });
    let raw = rawFiles(home);
    expect(raw.includes(Buffer.from(SECRET))).toBe(false);
    expect(raw.includes(Buffer.from(Buffer.from(SECRET).toString("base64")))).toBe(false);
    const db = new Database(path.join(home, "keystore.db"), { readonly: true });
    const row = db.prepare("SELECT sealed, wrapped_dek FROM secret_versions WHERE name = 'llm/openai' AND version = 1").get() as {
      sealed: Buffer;
      wrapped_dek: Buffer;
    };
    db.close();
    expect(rawFiles(home).includes(row.sealed)).toBe(true); // the search can find what is there
    expect(store.destroy("llm/openai", 1).walTruncated).toBe(true);
    raw = rawFiles(home);
    expect(raw.includes(row.sealed)).toBe(false);
    expect(raw.includes(row.wrapped_dek)).toBe(false);
    expect(raw.includes(Buffer.from(SECRET))).toBe(false);
    ks.close();
    expect(rawFiles(home).includes(row.sealed.subarray(32, 64))).toBe(false);
  });

  it("a sealed value moved to another version's row does not open (name and version are bound)", async () => {
    const { home, ks, store } = await fresh();
    await store.set("a/x", Buffer.from("value-one-1111111"));
    await store.set("a/x", Buffer.from("value-two-2222222"));
    ks.close();
    const db = new Database(path.join(home, "keystore.db"));
    const v2 = db.prepare("SELECT sealed, wrapped_dek FROM secret_versions WHERE version = 2").get() as { sealed: Buffer; wrapped_dek: Buffer };
    db.prepare("UPDATE secret_versions SET sealed = ?, wrapped_dek = ? WHERE version = 1").run(v2.sealed, v2.wrapped_dek);
    db.close();
    const ks2 = await openKeystore(home, { principal: "mallory" });
    await expect(new SecretStore(ks2).read("a/x", { version: 1, for: "t" })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    ks2.close();
  });

  it("a read refused by the keystore key's state is audited (secret.read, then the denied unwrap) and returns nothing", async () => {
    const { ks, store } = await fresh();
    await store.set("llm/k", Buffer.from("value-four-444444"));
    ks.rotateKey("secrets/llm");
    ks.disableVersion("secrets/llm", 1);
    await expect(store.read("llm/k", { for: "t" })).rejects.toMatchObject({ code: "KEY_DISABLED" });
    const last = ks
      .listAudit()
      .slice(-2)
      .map((r) => [r.operation, r.outcome, r.errorCode]);
    expect(last).toEqual([
      ["secret.read", "ok", null],
      ["secret-read", "denied", "KEY_DISABLED"],
    ]);
    ks.close();
  });

  it("a read whose audit record cannot be written returns nothing (fail closed)", async () => {
    const home = path.join(tempDir(), "ks");
    await initKeystore(home);
    let fail = false;
    const ks = await openKeystore(home, {
      principal: "bob",
      auditSink: {
        append: () => {
          if (fail) throw new Error("disk full");
        },
      },
    });
    const store = new SecretStore(ks);
    await store.set("a/y", Buffer.from("value-three-33333"));
    fail = true;
    await expect(store.read("a/y", { for: "t" })).rejects.toMatchObject({ code: "AUDIT_WRITE_FAILED" });
    ks.close();
  });
});
