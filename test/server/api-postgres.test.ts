/** The same API suite on the PostgreSQL store (a throwaway cluster; skipped when PostgreSQL binaries are missing). */
import { afterAll, beforeAll, describe } from "vitest";
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
} else describe.skip("key service API (postgres): PostgreSQL binaries not found", () => undefined);
