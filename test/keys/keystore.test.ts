import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { DecryptError } from "../../src/errors.js";
import { openKeystore, type WrappedKey } from "../../src/keys/index.js";
import { dataKey, expectCode, freshStore, track } from "./helpers.js";

const ctx = { dataset: "users", stage: "training" };
const obj = { operation: "decrypt", path: "s3://bucket/users.sealed" } as const;

describe("wrap / unwrap", () => {
  it("round-trips a data key and returns a 60-byte wrap under the primary", async () => {
    const { ks } = await freshStore();
    ks.createKey("datasets/pii");
    const dk = dataKey();
    const entry = await ks.wrap("datasets/pii", dk, ctx);
    expect(entry).toMatchObject({ keyring: "local", keyName: "datasets/pii", keyVersion: 1 });
    expect(entry.wrapped.length).toBe(60);
    const out = await ks.unwrap(entry, { stage: "training", dataset: "users" }, obj);
    expect(out.equals(dk)).toBe(true);
    expect(ks.showKey("datasets/pii").versions[0]?.wrapCount).toBe(1);
  });

  it("wrong context, flipped bits and edited entries fail authentication", async () => {
    const { ks } = await freshStore();
    ks.createKey("a");
    ks.createKey("b");
    ks.rotateKey("a");
    ks.rotateKey("b");
    const entry = await ks.wrap("a", dataKey(), ctx);
    await expect(ks.unwrap(entry, { ...ctx, stage: "serving" }, obj)).rejects.toBeInstanceOf(DecryptError);
    await expect(ks.unwrap(entry, {}, obj)).rejects.toBeInstanceOf(DecryptError);
    for (let i = 0; i < entry.wrapped.length; i += 7) {
      const wrapped = Buffer.from(entry.wrapped);
      wrapped[i] = (wrapped[i] as number) ^ 0x01;
      await expect(ks.unwrap({ ...entry, wrapped }, ctx, obj)).rejects.toBeInstanceOf(DecryptError);
    }
    await expect(ks.unwrap({ ...entry, wrapped: entry.wrapped.subarray(0, 59) }, ctx, obj)).rejects.toBeInstanceOf(DecryptError);
    await expect(ks.unwrap({ ...entry, keyName: "b" }, ctx, obj)).rejects.toBeInstanceOf(DecryptError);
    await expect(ks.unwrap({ ...entry, keyVersion: 1 }, ctx, obj)).rejects.toBeInstanceOf(DecryptError);
    await expectCode(() => ks.unwrap({ ...entry, keyVersion: 9 }, ctx, obj), "KEY_VERSION_NOT_FOUND");
    await expectCode(() => ks.unwrap({ ...entry, keyName: "nope" }, ctx, obj), "KEY_NOT_FOUND");
    await expectCode(() => ks.unwrap({ ...entry, keyring: "kms" }, ctx, obj), "KEYRING_MISMATCH");
    await expectCode(() => ks.unwrap(entry, ctx, { operation: "key.destroy" }), "INVALID_ARGUMENT");
  });

  it("a KEK blob moved to another version's row does not open (AAD binds name and version)", async () => {
    const { home, ks } = await freshStore();
    ks.createKey("k");
    ks.rotateKey("k");
    const entry = await ks.wrap("k", dataKey(), ctx);
    ks.close();
    const db = new Database(path.join(home, "keystore.db"));
    const v2 = db.prepare("SELECT kek FROM key_versions WHERE key_name='k' AND version=2").get() as { kek: Buffer };
    db.prepare("UPDATE key_versions SET kek = ? WHERE key_name='k' AND version=1").run(v2.kek);
    db.close();
    const again = track(await openKeystore(home));
    await expectCode(() => again.unwrap({ ...entry, keyVersion: 1 }, ctx, obj), "KEYSTORE_CORRUPT");
  });

  it("validates names, data keys and contexts", async () => {
    const { ks } = await freshStore();
    for (const bad of ["", "Upper", "-lead", "a b", "x".repeat(129), "é"]) await expectCode(() => ks.createKey(bad), "INVALID_ARGUMENT");
    ks.createKey("ok/name-1.2_3");
    await expectCode(() => ks.createKey("ok/name-1.2_3"), "KEY_EXISTS");
    await expectCode(() => ks.wrap("ok/name-1.2_3", Buffer.alloc(16), {}), "INVALID_ARGUMENT");
    await expectCode(() => ks.wrap("ok/name-1.2_3", dataKey(), { "bad key": "v" }), "INVALID_ARGUMENT");
    await expectCode(() => ks.wrap("missing", dataKey(), {}), "KEY_NOT_FOUND");
    expect(ks.showKey("ok/name-1.2_3").versions[0]?.wrapCount).toBe(0);
  });
});

describe("rotation and version states", () => {
  it("rotate keeps old versions unwrappable and wraps under the new primary; rewrap moves to primary", async () => {
    const { ks } = await freshStore();
    ks.createKey("k");
    const dk = dataKey();
    const v1 = await ks.wrap("k", dk, ctx);
    const info = ks.rotateKey("k");
    expect(info.primaryVersion).toBe(2);
    expect(info.versions.map((v) => v.version)).toEqual([1, 2]);
    const v2 = await ks.wrap("k", dataKey(), ctx);
    expect(v2.keyVersion).toBe(2);
    expect((await ks.unwrap(v1, ctx, obj)).equals(dk)).toBe(true);
    ks.rotateKey("k");
    const moved = await ks.rewrap(v1, ctx, { operation: "rewrap", path: "f" });
    expect(moved.keyVersion).toBe(3);
    expect(Buffer.from(moved.wrapped).equals(Buffer.from(v1.wrapped))).toBe(false);
    expect((await ks.unwrap(moved, ctx, obj)).equals(dk)).toBe(true);
    const last = ks.listAudit({ limit: 2 });
    expect(last[0]).toMatchObject({ operation: "rewrap", keyName: "k", keyVersion: 1, outcome: "ok", objectPath: "f" });
  });

  it("disable / enable; the primary cannot be disabled or destroyed", async () => {
    const { ks } = await freshStore();
    ks.createKey("k");
    const v1 = await ks.wrap("k", dataKey(), ctx);
    await expectCode(() => ks.disableVersion("k", 1), "KEY_STATE_CONFLICT");
    await expectCode(() => ks.destroyVersion("k", 1), "KEY_STATE_CONFLICT");
    ks.rotateKey("k");
    expect(ks.disableVersion("k", 1).versions[0]?.state).toBe("disabled");
    await expectCode(() => ks.unwrap(v1, ctx, obj), "KEY_DISABLED");
    await expectCode(() => ks.rewrap(v1, ctx, obj), "KEY_DISABLED");
    ks.enableVersion("k", 1);
    expect((await ks.unwrap(v1, ctx, obj)).length).toBe(32);
    await expectCode(() => ks.disableVersion("k", 5), "KEY_VERSION_NOT_FOUND");
  });

  it("destroy crypto-shreds: KEY_DESTROYED, column NULL, blob gone from DB and WAL", async () => {
    const { home, ks } = await freshStore();
    ks.createKey("k");
    const v1 = await ks.wrap("k", dataKey(), ctx);
    ks.rotateKey("k");
    for (let i = 0; i < 20; i++) await ks.wrap("k", dataKey(), ctx); // more WAL traffic
    const peek = new Database(path.join(home, "keystore.db"), { readonly: true });
    const blob = (peek.prepare("SELECT kek FROM key_versions WHERE key_name='k' AND version=1").get() as { kek: Buffer }).kek;
    peek.close();
    expect(blob.length).toBe(60);

    expect(ks.destroyVersion("k", 1)).toEqual({ walTruncated: true });
    await expectCode(() => ks.unwrap(v1, ctx, obj), "KEY_DESTROYED");
    await expectCode(() => ks.enableVersion("k", 1), "KEY_STATE_CONFLICT");
    expect(ks.showKey("k").versions[0]).toMatchObject({ state: "destroyed" });

    const check = new Database(path.join(home, "keystore.db"), { readonly: true });
    expect(check.prepare("SELECT kek FROM key_versions WHERE key_name='k' AND version=1").get()).toEqual({ kek: null });
    check.close();
    for (const f of ["keystore.db", "keystore.db-wal"]) {
      const file = path.join(home, f);
      if (existsSync(file)) expect(readFileSync(file).includes(blob)).toBe(false);
    }
    // the blob's distinctive middle (ciphertext) is gone too, not just the whole blob
    expect(readFileSync(path.join(home, "keystore.db")).includes(blob.subarray(12, 44))).toBe(false);
  });

  it("minimum decryption version", async () => {
    const { ks } = await freshStore();
    ks.createKey("k");
    const v1 = await ks.wrap("k", dataKey(), ctx);
    ks.rotateKey("k");
    const v2 = await ks.wrap("k", dataKey(), ctx);
    expect(ks.setMinDecryptVersion("k", 2).minDecryptVersion).toBe(2);
    await expectCode(() => ks.unwrap(v1, ctx, obj), "KEY_BELOW_MIN_VERSION");
    expect((await ks.unwrap(v2, ctx, obj)).length).toBe(32);
    await expectCode(() => ks.setMinDecryptVersion("k", 3), "INVALID_ARGUMENT");
    ks.setMinDecryptVersion("k", 1);
    expect((await ks.unwrap(v1, ctx, obj)).length).toBe(32);
  });

  it("enforces the per-version wrap limit; rotation resets it", async () => {
    const { ks } = await freshStore({ maxWrapsPerVersion: 3 });
    ks.createKey("k");
    for (let i = 0; i < 3; i++) await ks.wrap("k", dataKey(), ctx);
    await expectCode(() => ks.wrap("k", dataKey(), ctx), "KEY_USAGE_LIMIT");
    expect(ks.showKey("k").versions[0]?.wrapCount).toBe(3);
    ks.rotateKey("k");
    expect((await ks.wrap("k", dataKey(), ctx)).keyVersion).toBe(2);
    await expectCode(() => openKeystore("/nonexistent-home-x", { maxWrapsPerVersion: 0 }), "KEYSTORE_NOT_INITIALIZED");
  });

  it("reports rotation due from the primary's age", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const { ks } = await freshStore({ now: () => now });
    ks.createKey("k", { rotateEverySeconds: 3600 });
    ks.createKey("never");
    expect(ks.showKey("k")).toMatchObject({ rotationDue: false, dueAt: now + 3600_000, rotateEverySeconds: 3600 });
    now += 3600_000;
    expect(ks.showKey("k").rotationDue).toBe(true);
    ks.rotateKey("k");
    expect(ks.showKey("k")).toMatchObject({ rotationDue: false, dueAt: now + 3600_000 });
    expect(ks.showKey("never")).toMatchObject({ rotationDue: false, dueAt: null });
    expect(ks.listKeys().map((k) => k.name)).toEqual(["k", "never"]);
    await expectCode(() => ks.createKey("x", { rotateEverySeconds: 0 }), "INVALID_ARGUMENT");
  });

  it("a closed keystore refuses calls", async () => {
    const { ks } = await freshStore();
    ks.close();
    ks.close();
    await expectCode(() => ks.listKeys(), "INVALID_ARGUMENT");
    await expectCode(() => ks.wrap("k", dataKey(), {}), "INVALID_ARGUMENT");
  });
});

export type { WrappedKey };

describe("wrap / unwrap property", () => {
  it("round-trips random keys and contexts; any other context fails", async () => {
    const { ks } = await freshStore();
    const runs = Number(process.env.PIPESEAL_DEEP ?? 40);
    const names = ["a", "b/c", "x.y-z_1"];
    for (const n of names) ks.createKey(n);
    const rand = (k: number) => Math.floor(Math.random() * k);
    for (let i = 0; i < runs; i++) {
      const name = names[rand(names.length)] as string;
      if (rand(4) === 0) ks.rotateKey(name);
      const context: Record<string, string> = {};
      for (let j = rand(5); j > 0; j--) context[`k${rand(8)}`] = "v".repeat(rand(20));
      const dk = dataKey();
      const entry = await ks.wrap(name, dk, context);
      expect((await ks.unwrap(entry, context, { operation: "unwrap" })).equals(dk)).toBe(true);
      await expect(ks.unwrap(entry, { ...context, extra: "1" }, { operation: "unwrap" })).rejects.toBeInstanceOf(DecryptError);
    }
    await expectCode(
      () => ks.unwrap({ keyring: "local", keyName: "a", keyVersion: 2 ** 32, wrapped: new Uint8Array(60) }, {}, { operation: "unwrap" }),
      "INVALID_ARGUMENT",
    );
    expect(ks.verifyAudit().ok).toBe(true);
  });
});
