/** `monitor run --server` over a key service on the PostgreSQL store (remote-suite.ts; a throwaway cluster). */
import postgres from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { POLICY_EXPORT, startHarness } from "../server/api-harness.js";
import { REMOTE_KEYS, remoteMonitorSuite } from "./remote-suite.js";

const available = postgresBinDir() !== null;
let pg: TestPostgres | undefined;
beforeAll(async () => {
  if (available) pg = await startPostgres();
}, 120_000);
afterAll(async () => pg?.stop());

if (available) {
  remoteMonitorSuite("postgres", {
    async start() {
      await pg!.createDatabase("ks_monitor");
      return startHarness({
        policy: POLICY_EXPORT,
        keys: REMOTE_KEYS,
        postgresUrl: `postgresql://postgres@localhost:${pg!.port}/ks_monitor?host=${encodeURIComponent(pg!.socketDir)}`,
      });
    },
    async deleteRecords(_h, seqs) {
      // beside the service, on its database, as a DBA would
      const client = new postgres.Client(pg!.poolConfig("ks_monitor"));
      await client.connect();
      try {
        await client.query("DELETE FROM audit WHERE seq = ANY($1::bigint[])", [seqs]);
      } finally {
        await client.end();
      }
    },
  });
}
// a missing PostgreSQL fails the run (never a silent skip): scripts/setup.sh installs it
it("has PostgreSQL 15 binaries (run scripts/setup.sh)", () => expect(available).toBe(true));
