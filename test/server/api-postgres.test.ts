/** The same API suite on the PostgreSQL store (a throwaway cluster; scripts/setup.sh installs PostgreSQL). */
import postgres from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { apiSuite } from "./api-suite.js";
import { startHarness } from "./api-harness.js";

const available = postgresBinDir() !== null;
let pg: TestPostgres | undefined;
beforeAll(async () => {
  if (available) pg = await startPostgres();
}, 120_000);
afterAll(async () => pg?.stop());

/** On the service's database, beside it, as test/server/store-postgres.test.ts does. */
async function sql(statement: string): Promise<void> {
  const client = new postgres.Client(pg!.poolConfig("ks_api"));
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

if (available) {
  apiSuite(
    "postgres",
    async () => {
      await pg!.createDatabase("ks_api");
      return startHarness({ postgresUrl: `postgresql://postgres@localhost:${pg!.port}/ks_api?host=${encodeURIComponent(pg!.socketDir)}` });
    },
    {
      async breakAudit() {
        await sql(`CREATE OR REPLACE FUNCTION audit_offline() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit offline'; END $$;
                   CREATE TRIGGER audit_offline BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_offline();`);
      },
      async repairAudit() {
        await sql("DROP TRIGGER IF EXISTS audit_offline ON audit");
      },
    },
  );
}
// a missing PostgreSQL fails the run (never a silent skip): scripts/setup.sh installs it
it("has PostgreSQL 15 binaries (run scripts/setup.sh)", () => expect(available).toBe(true));
