/** `monitor run --server` over a key service on the SQLite store (remote-suite.ts). */
import path from "node:path";
import Database from "better-sqlite3";
import { POLICY_EXPORT, startHarness } from "../server/api-harness.js";
import { REMOTE_KEYS, remoteMonitorSuite } from "./remote-suite.js";

remoteMonitorSuite("sqlite", {
  start: () => startHarness({ policy: POLICY_EXPORT, keys: REMOTE_KEYS }),
  async deleteRecords(h, seqs) {
    // a second connection to the service's own file, as someone with the disk would
    const db = new Database(path.join(h.home, "keystore.db"));
    try {
      for (const s of seqs) db.prepare("DELETE FROM audit WHERE seq = ?").run(s);
    } finally {
      db.close();
    }
  },
});
