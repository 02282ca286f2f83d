/** The key service API over real mTLS on the SQLite store. */
import Database from "better-sqlite3";
import path from "node:path";
import { apiSuite } from "./api-suite.js";
import { type Harness, startHarness } from "./api-harness.js";

/** Beside the running service, as test/server/store-sqlite.test.ts does. */
function sql(h: Harness, statement: string): void {
  const db = new Database(path.join(h.home, "keystore.db"));
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(statement);
  } finally {
    db.close();
  }
}

apiSuite("sqlite", () => startHarness(), {
  async breakAudit(h) {
    sql(h, "CREATE TRIGGER audit_offline BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit offline'); END;");
  },
  async repairAudit(h) {
    sql(h, "DROP TRIGGER IF EXISTS audit_offline;");
  },
});
