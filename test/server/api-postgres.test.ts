/** The same API suite on the PostgreSQL store (a throwaway cluster; scripts/setup.sh installs PostgreSQL). */
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

if (available) {
  apiSuite("postgres", async () => {
    await pg!.createDatabase("ks_api");
    return startHarness({ postgresUrl: `postgresql://postgres@localhost:${pg!.port}/ks_api?host=${encodeURIComponent(pg!.socketDir)}` });
  });
}
// a missing PostgreSQL fails the run (never a silent skip): scripts/setup.sh installs it
it("has PostgreSQL 15 binaries (run scripts/setup.sh)", () => expect(available).toBe(true));
