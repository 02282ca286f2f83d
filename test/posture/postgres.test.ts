/**
 * PostgreSQL table stores against a real PostgreSQL (test/helpers/postgres.ts): a column of
 * field tokens under the store's key passes, a plaintext column and a column under another key
 * are each one REST-PG-PLAINTEXT finding that counts values but never copies one, and an
 * unreadable table is REST-PG-UNVERIFIED, not a crash.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatValue } from "../../src/fields/value-format.js";
import { postgresChecks } from "../../src/posture/checks/postgres.js";
import type { PipelineMap, StoreSpec } from "../../src/posture/types.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";

let server: TestPostgres;
let url: string;

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase("features");
  url = `postgresql://postgres@localhost:${server.port}/features?host=${encodeURIComponent(server.socketDir)}`;
  const client = new pg.Client(server.poolConfig("features"));
  await client.connect();
  try {
    await client.query(`CREATE TABLE "customer features" (id int, email text, name text, score text, note text)`);
    for (let i = 0; i < 20; i++) {
      const token = (key: string) => formatValue("e", key, 1, randomBytes(40));
      await client.query(`INSERT INTO "customer features" VALUES ($1, $2, $3, $4, $5)`, [
        i,
        token("datasets/customers"),
        `Customer Number${i}`,
        token("other/key"),
        i % 2 ? null : token("datasets/customers"),
      ]);
    }
  } finally {
    await client.end();
  }
}, 120_000);
afterAll(() => server?.stop());

const mapOf = (store: Omit<StoreSpec, "id" | "kind" | "classification">): PipelineMap => ({
  version: 1,
  name: "pg test",
  baseDir: "/",
  keys: {},
  stages: [{ id: "features", stores: [{ id: "feature-table", kind: "postgres", classification: "pii", key: "datasets/customers", ...store }], compute: [] }],
  connections: [],
  plaintextMaxAgeSeconds: 86_400,
});
const run = (map: PipelineMap) => postgresChecks.run({ map, now: new Date() });

describe("posture: PostgreSQL table stores", () => {
  it("passes columns of tokens under the store's key (nulls ignored)", async () => {
    const r = await run(mapOf({ url, table: "customer features", columns: ["email", "note"] }));
    expect(r.findings).toEqual([]);
    expect(r.examined).toEqual(["feature-table"]);
  });

  it("finds a plaintext column and a column under another key, once each, without copying a value", async () => {
    const r = await run(mapOf({ url, table: "customer features", columns: ["email", "name", "score"] }));
    expect(r.findings.map((f) => [f.checkId, f.location, f.severity])).toEqual([
      ["REST-PG-PLAINTEXT", "customer features.name", "critical"],
      ["REST-PG-PLAINTEXT", "customer features.score", "high"],
    ]);
    expect(r.findings[0]!.evidence).toMatchObject({ sampledRows: 20, values: 20, plaintext: 20, otherKey: 0 });
    expect(r.findings[1]!.evidence).toMatchObject({ plaintext: 0, otherKey: 20, expectedKey: "datasets/customers" });
    expect(JSON.stringify(r.findings)).not.toMatch(/Customer Number|pse1:/);
  });

  it("a missing table, a missing column or a refused connection is REST-PG-UNVERIFIED", async () => {
    const missing = await run(mapOf({ url, table: "nope", columns: ["email"] }));
    const badColumn = await run(mapOf({ url, table: "customer features", columns: ['em"ail'] }));
    const refused = await run(mapOf({ url: "postgresql://postgres@127.0.0.1:1/features", table: "t", columns: ["c"] }));
    for (const r of [missing, badColumn, refused]) expect(r.findings.map((f) => f.checkId)).toEqual(["REST-PG-UNVERIFIED"]);
    expect(missing.findings[0]!.evidence).toMatchObject({ code: "42P01" });
    expect(badColumn.findings[0]!.evidence).toMatchObject({ code: "42703" });
  });
});
