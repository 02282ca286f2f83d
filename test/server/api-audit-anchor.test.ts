/**
 * Anchors of the key service's chain over real mTLS, on PostgreSQL: `pipeseal --server …
 * audit anchor` writes a signed anchor of the service's head; `audit verify --anchor` through
 * the service proves its chain extends it; restoring an older copy of the database (audit,
 * head and keys, as a backup restore would) is caught, as is a forged anchor.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, POLICY_EXPORT, runCli, startHarness } from "./api-harness.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";

let pg: TestPostgres;
let h: Harness;
beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase("ks_anchor");
  h = await startHarness({
    policy: POLICY_EXPORT,
    postgresUrl: `postgresql://postgres@localhost:${pg.port}/ks_anchor?host=${encodeURIComponent(pg.socketDir)}`,
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await pg?.stop();
});

async function sql(statement: string): Promise<void> {
  const client = new postgres.Client(pg.poolConfig("ks_anchor"));
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const TABLES = ["audit", "audit_head", "key_versions", "keys"];
const backup = () => sql(TABLES.map((t) => `DROP TABLE IF EXISTS bak_${t}; CREATE TABLE bak_${t} AS SELECT * FROM ${t};`).join("\n"));
const restore = () =>
  sql(`BEGIN; DELETE FROM audit; DELETE FROM audit_head; DELETE FROM key_versions; DELETE FROM keys;
       INSERT INTO keys SELECT * FROM bak_keys; INSERT INTO key_versions SELECT * FROM bak_key_versions;
       INSERT INTO audit SELECT * FROM bak_audit; INSERT INTO audit_head SELECT * FROM bak_audit_head; COMMIT;`);

describe("audit anchors through the key service (PostgreSQL, mTLS)", () => {
  it("anchor, grow, verify ok; restore an older copy: verify alone says ok, verify --anchor fails with AUDIT_ROLLBACK", async () => {
    const trainer = h.keyring("trainer");
    const entry = await trainer.wrap("prod/datasets/raw", randomBytes(32), { dataset: "raw" });
    (await trainer.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).fill(0);
    const auditor = ["--server", h.svc.url, "--cert", h.certs.auditor];
    const a1 = path.join(h.dir, "a1.json");
    const key = path.join(h.dir, "service-anchor-key.pem");
    expect((await runCli([...auditor, "audit", "anchor", "-o", a1, "--export-key", key])).status).toBe(0);
    expect(readFileSync(key, "utf8")).toMatch(/BEGIN PUBLIC KEY/);
    await backup();
    // enough records after the backup (one per operation) that the restored chain, with the records
    // of the reads made to check it, stays short of a2's head: a rollback, not a fork
    for (let i = 0; i < 4; i++) (await trainer.unwrap(entry, { dataset: "raw" }, { operation: "decrypt" })).fill(0);
    await h.keyring("admin").rotateKey("prod/datasets/raw");
    const a2 = path.join(h.dir, "a2.json");
    const out = await runCli([...auditor, "audit", "anchor"]);
    expect(out.status).toBe(0);
    writeFileSync(a2, out.stdout);
    expect(JSON.parse(Buffer.from(JSON.parse(out.stdout.toString()).payload, "base64").toString())).toMatchObject({ store: "key-service" });
    const ok = await runCli([...auditor, "audit", "verify", "--anchor", a1, a2]);
    expect(ok.status).toBe(0);
    expect(ok.stdout.toString()).toMatch(/a2\.json: ok, extended/);

    await restore();
    expect((await h.keyring("auditor").verifyAudit()).ok).toBe(true); // from inside, nothing to see
    expect((await h.keyring("admin").showKey("prod/datasets/raw")).primaryVersion).toBe(1); // the rotation is gone
    const r = await runCli([...auditor, "audit", "verify", "--anchor", a1, a2]);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("[AUDIT_ROLLBACK]");
    expect(r.stdout.toString()).toMatch(/a1\.json: ok, extended/);
    expect(r.stdout.toString()).toMatch(/a2\.json: rolled back/);
  });

  it("an anchor altered, or taken from a local keystore, is AUDIT_ANCHOR_INVALID; the route needs audit.read", async () => {
    const auditor = h.keyring("auditor");
    const { anchor } = await auditor.auditAnchor();
    const p = JSON.parse(Buffer.from(anchor.payload, "base64").toString());
    const forged = JSON.stringify({ ...anchor, payload: Buffer.from(JSON.stringify({ ...p, seq: 1 })).toString("base64") });
    const result = await auditor.verifyAuditAnchored([forged, JSON.stringify(anchor)]);
    expect(result.anchors.map((a) => [a.ok, a.code])).toEqual([
      [false, "AUDIT_ANCHOR_INVALID"],
      [true, null],
    ]);
    const local = path.join(h.dir, "local.json");
    const made = await runCli(["audit", "anchor", "-o", local], { PIPESEAL_HOME: path.join(h.dir, "other") });
    expect(made.status).toBe(0);
    const r = await runCli(["--server", h.svc.url, "--cert", h.certs.auditor, "audit", "verify", "--anchor", local]);
    expect(r.status).toBe(5);
    expect(r.stderr).toContain("[AUDIT_ANCHOR_INVALID]");
    await expect(h.keyring("trainer").auditAnchor()).rejects.toMatchObject({ code: "ACCESS_DENIED" });
  });
});
