/**
 * Two `pipeseal serve` replicas (two `startKeyService` instances, each with its own pool,
 * listener and authorizer) on one PostgreSQL, driven through the mTLS API as clients would:
 * a rotation through one is what the other uses at once; concurrent rotations through both
 * give contiguous versions and one primary; unwraps and rotations through both keep one
 * audit chain that verifies with no record lost; a policy approved through one governs the other.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteKeyring } from "../../src/client/index.js";
import { parseConfig } from "../../src/server/config.js";
import { type RunningKeyService, startKeyService } from "../../src/server/server.js";
import { postgresBinDir, startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { type Harness, POLICY_EXPORT, startHarness, type Who, WHO } from "./api-harness.js";

const available = postgresBinDir() !== null;
it("has PostgreSQL 15 binaries (run scripts/setup.sh)", () => expect(available).toBe(true));

const ctx = { dataset: "raw" };

/** The first export line (the stream is closed after it), or the refusal. */
async function firstExportLine(kr: RemoteKeyring): Promise<string | undefined> {
  for await (const line of kr.exportAudit()) return line;
  return undefined;
}

describe.skipIf(!available)("two replicas on one PostgreSQL, through the API", () => {
  let pg: TestPostgres;
  let h: Harness;
  let b: RunningKeyService;
  const open: RemoteKeyring[] = [];
  /** A client of replica A (the harness's service) or B. */
  const at = (replica: "a" | "b", who: Who) => {
    if (replica === "a") return h.keyring(who);
    const kr = new RemoteKeyring({ url: b.url, certDir: h.certs[who], id: "ks:test", retry: { attempts: 2, baseMs: 5 }, timeoutMs: 10_000 });
    open.push(kr);
    return kr;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase("ks_replicas");
    h = await startHarness({ postgresUrl: `postgresql://postgres@localhost:${pg.port}/ks_replicas?host=${encodeURIComponent(pg.socketDir)}` });
    // replica B: the same keyservice.yaml (same database, same root), its own process state
    b = await startKeyService(parseConfig(readFileSync(path.join(h.dir, "keyservice.yaml"), "utf8"), h.dir));
    expect(b.url).not.toBe(h.svc.url);
  }, 120_000);
  afterAll(async () => {
    for (const kr of open) await kr.close().catch(() => undefined);
    await b?.close();
    await h?.close();
    await pg?.stop();
  });

  it("a rotation through one replica is what the other shows and wraps with at once", async () => {
    const key = "prod/replicas/seen";
    await at("a", "admin").createKey(key);
    for (let i = 0; i < 4; i++) {
      const [rotateVia, readVia] = i % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const);
      const v = (await at(rotateVia, "admin").rotateKey(key)).primaryVersion;
      expect(v).toBe(i + 2);
      expect((await at(readVia, "trainer").showKey(key)).primaryVersion).toBe(v);
      const e = await at(readVia, "trainer").wrap(key, randomBytes(32), ctx);
      expect(e.keyVersion).toBe(v);
      // and an entry wrapped by one replica unwraps through the other
      expect(await at(rotateVia, "trainer").unwrap(e, ctx, { operation: "decrypt" })).toHaveLength(32);
    }
  });

  it("concurrent rotations through both replicas: contiguous versions, each handed out once, one primary", async () => {
    const key = "prod/replicas/race";
    await at("b", "admin").createKey(key);
    const [adminA, adminB] = [at("a", "admin"), at("b", "admin")];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? adminA : adminB).rotateKey(key)));
    const versions = results.map((r) => r.primaryVersion).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 30 }, (_, i) => i + 2));
    for (const replica of ["a", "b"] as const) {
      const info = await at(replica, "admin").showKey(key);
      expect(info.primaryVersion).toBe(31);
      expect(info.versions.map((v) => v.version)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
      expect(info.versions.every((v) => v.state === "enabled")).toBe(true);
    }
  });

  it("unwraps and rotations through both at once: every one audited, one chain that verifies through either replica", async () => {
    const key = "prod/replicas/chain";
    await at("a", "admin").createKey(key);
    const auditor = at("a", "auditor");
    const before = (await auditor.listAudit({ limit: 100_000 })).length;
    const entries = await Promise.all(Array.from({ length: 8 }, () => at("a", "trainer").wrap(key, randomBytes(32), ctx)));
    const [ta, tb] = [at("a", "trainer"), at("b", "trainer")];
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) work.push((i % 2 === 0 ? ta : tb).unwrap(entries[i % entries.length]!, ctx, { operation: "decrypt", path: `shard-${i}` }));
    for (let i = 0; i < 6; i++) work.push(at(i % 2 === 0 ? "a" : "b", "admin").rotateKey(key));
    await Promise.all(work);
    const records = await auditor.listAudit({ limit: 100_000 });
    const shards = records.filter((r) => r.operation === "decrypt" && r.principal === WHO.trainer && r.objectPath?.startsWith("shard-"));
    expect(new Set(shards.map((r) => r.objectPath)).size).toBe(40);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => records[0]!.seq + i));
    // one record per allowed operation, through either replica: each unwrap is its own record with its rule, no authz.* beside it
    expect(shards).toHaveLength(40);
    expect(shards.every((r) => JSON.parse(r.context!)["@rule"] === "train")).toBe(true);
    const added = records.slice(before);
    expect(added.filter((r) => r.operation === "key.rotate" && r.keyName === key)).toHaveLength(6);
    expect(added.filter((r) => r.operation.startsWith("authz."))).toEqual([]);
    for (const replica of ["a", "b"] as const) expect(await at(replica, "auditor").verifyAudit()).toMatchObject({ ok: true, problems: [] });
  });

  it("a policy approved through one replica governs the other (within the refresh interval)", async () => {
    await expect(firstExportLine(at("b", "auditor"))).rejects.toMatchObject({ code: "ACCESS_DENIED" });
    const { id } = await at("a", "pa1").proposePolicy(POLICY_EXPORT);
    await at("b", "pa2").approvePolicy(id);
    // B approved it, so B already uses it; A reloads within its refresh interval (2 s)
    const deadline = Date.now() + 5000;
    for (;;) {
      const r = await firstExportLine(at("a", "auditor")).catch((e: unknown) => e);
      if (!(r instanceof Error)) break;
      expect(r).toMatchObject({ code: "ACCESS_DENIED" });
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(JSON.parse((await firstExportLine(at("b", "auditor")))!)).toMatchObject({ seq: 1, operation: "init" });
  });
});
