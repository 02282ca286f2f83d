/**
 * The SQLite store syncs its WAL off the event loop (src/server/store/wal-sync.ts): a commit
 * is answered only after its WAL frames were fdatasync'ed. If the WAL it syncs was replaced
 * behind its back, nothing could be made durable: requests fail closed.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { initKeystore } from "../../src/keys/keystore.js";
import { openSqliteStore } from "../../src/server/store/sqlite.js";

const root = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-store-wal-"));
afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe("SQLite store durability", () => {
  it("commits through a WAL that a second connection reads back after each answer", async () => {
    const home = path.join(root, "a");
    await initKeystore(home, { principal: "t" });
    const store = await openSqliteStore({ home });
    try {
      await store.createKey("admin", "k");
      const entry = await store.wrap("w", "k", randomBytes(32), {});
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.unwrap("w", entry, {}, { operation: "decrypt", path: `p${i}` })));
      const db = new Database(path.join(home, "keystore.db"), { readonly: true });
      try {
        expect((db.prepare("SELECT count(*) AS n FROM audit WHERE operation = 'decrypt'").get() as { n: number }).n).toBe(50);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });

  it("fails closed (AUDIT_WRITE_FAILED, no key) when its WAL file was replaced", async () => {
    const home = path.join(root, "b");
    await initKeystore(home, { principal: "t" });
    const store = await openSqliteStore({ home });
    try {
      await store.createKey("admin", "k");
      const entry = await store.wrap("w", "k", randomBytes(32), {});
      const wal = path.join(home, "keystore.db-wal");
      await fs.copyFile(wal, `${wal}.copy`);
      await fs.rename(`${wal}.copy`, wal); // same path, another inode
      const settled = await Promise.allSettled(Array.from({ length: 5 }, () => store.unwrap("w", entry, {}, { operation: "decrypt" })));
      expect(settled.map((r) => (r.status === "rejected" ? (r.reason as { code?: string }).code : "released"))).toEqual(Array(5).fill("AUDIT_WRITE_FAILED"));
      await expect(store.rotateKey("admin", "k")).rejects.toMatchObject({ code: "AUDIT_WRITE_FAILED" });
    } finally {
      await store.close();
    }
  });
});
