/** The shared KeyStore suite against the SQLite store (the local keystore behind the adapter). */
import Database from "better-sqlite3";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { initKeystore } from "../../src/keys/keystore.js";
import { openSqliteStore } from "../../src/server/store/sqlite.js";
import { storeSuite } from "./store.suite.js";

const root = await fs.mkdtemp(path.join(os.tmpdir(), "pipeseal-store-sqlite-"));
afterAll(() => fs.rm(root, { recursive: true, force: true }));
let home = "";
let n = 0;

function sql(statement: string): void {
  const db = new Database(path.join(home, "keystore.db"));
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(statement);
  } finally {
    db.close();
  }
}

storeSuite("sqlite", {
  async open() {
    home = path.join(root, `ks${++n}`);
    await initKeystore(home, { principal: "test-init" });
    return openSqliteStore({ home });
  },
  async breakAudit() {
    sql("CREATE TRIGGER audit_offline BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit offline'); END;");
  },
  async repairAudit() {
    if (home !== "") sql("DROP TRIGGER IF EXISTS audit_offline;");
  },
  async tamperAudit(seq) {
    sql(`UPDATE audit SET principal = 'mallory' WHERE seq = ${Number(seq)}`);
  },
  async sql(statement) {
    sql(statement);
  },
});
