/** RemoteKeyring: the data-key cache (off by default, limits, its log), retries with backoff, and a clear error when the service is down. */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CacheEvent, DataKeyCache, RemoteKeyring } from "../../src/client/index.js";
import { AuditError } from "../../src/errors.js";
import { type Harness, startHarness, WHO } from "../server/api-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

const ctx = { dataset: "raw" };
const unwrapRecords = async () =>
  (await h.svc.store.listAudit({ limit: 100000 })).filter((r) => r.operation === "decrypt" && r.principal === WHO.trainer).length;

describe("data-key cache", () => {
  it("is off by default: every unwrap reaches the service and is audited", async () => {
    const kr = h.keyring("trainer");
    const e = await kr.wrap("prod/datasets/raw", randomBytes(32), ctx);
    const before = await unwrapRecords();
    for (let i = 0; i < 3; i++) await kr.unwrap(e, ctx, { operation: "decrypt" });
    expect((await unwrapRecords()) - before).toBe(3);
  });

  it("when on, serves repeats from memory within max uses, and logs every decision", async () => {
    const log: CacheEvent[] = [];
    const kr = h.keyring("trainer", { cache: { maxAgeMs: 60_000, maxUses: 2 }, onCache: (e) => log.push(e) });
    const dk = randomBytes(32);
    const e = await kr.wrap("prod/datasets/raw", dk, ctx);
    const before = await unwrapRecords();
    for (let i = 0; i < 4; i++) expect(await kr.unwrap(e, ctx, { operation: "decrypt" })).toEqual(dk);
    expect(log.map((x) => x.decision)).toEqual(["miss", "store", "hit", "hit", "limit", "store"]);
    expect(log[4]).toMatchObject({ reason: "max-uses", keyName: "prod/datasets/raw" });
    expect((await unwrapRecords()) - before).toBe(2);
    // another context is another entry: never served from the cache
    await expect(kr.unwrap(e, { dataset: "other" }, { operation: "decrypt" })).rejects.toMatchObject({ code: "DECRYPT_FAILED" });
    // the returned key is a copy: wiping it does not poison the cache
    const got = await kr.unwrap(e, ctx, { operation: "decrypt" });
    got.fill(0);
    expect(await kr.unwrap(e, ctx, { operation: "decrypt" })).toEqual(dk);
  });

  it("expires by age, limits bytes, evicts beyond max entries (unit, with a clock)", () => {
    let now = 0;
    const log: CacheEvent[] = [];
    const c = new DataKeyCache(
      { maxAgeMs: 100, maxBytes: 1000, maxEntries: 2 },
      (e) => log.push(e),
      () => now,
    );
    const k = randomBytes(32);
    c.put("a", "k", 1, k, 0);
    expect(c.get("a", "k", 1, 600)).toEqual(k);
    expect(c.get("a", "k", 1, 600)).toBeUndefined(); // 1200 > 1000 bytes
    c.put("a", "k", 1, k);
    now = 100;
    expect(c.get("a", "k", 1)).toBeUndefined();
    c.put("b", "k", 1, k);
    c.put("c", "k", 1, k);
    c.put("d", "k", 1, k);
    expect(c.size).toBe(2);
    expect(log.filter((e) => e.decision !== "store").map((e) => `${e.decision}:${e.reason ?? ""}`)).toEqual([
      "hit:",
      "limit:max-bytes",
      "expired:max-age",
      "evict:max-entries",
    ]);
  });

  it("a cached unwrap takes microseconds", async () => {
    const kr = h.keyring("trainer", { cache: { maxAgeMs: 60_000 } });
    const e = await kr.wrap("prod/datasets/raw", randomBytes(32), ctx);
    await kr.unwrap(e, ctx, { operation: "decrypt" });
    const n = 20_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) (await kr.unwrap(e, ctx, { operation: "decrypt" })).fill(0);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
    expect(us).toBeLessThan(50);
  });
});

describe("retries and a down service", () => {
  it("retries a 503 with backoff and succeeds", async () => {
    const retries: string[] = [];
    const kr = h.keyring("trainer", { retry: { attempts: 3, baseMs: 10 }, onRetry: (e) => retries.push(e.reason) });
    const dk = randomBytes(32);
    const e = await kr.wrap("prod/datasets/raw", dk, ctx);
    const store = h.svc.store;
    // the unwrap's own audit record (it carries the decision) fails to commit once
    const orig = store.unwrap.bind(store);
    let fail = 1;
    store.unwrap = async (...args) => {
      if (fail-- > 0) throw new AuditError("AUDIT_WRITE_FAILED", undefined, { cause: new Error("transient") });
      return orig(...args);
    };
    try {
      expect(await kr.unwrap(e, ctx, { operation: "decrypt" })).toEqual(dk);
    } finally {
      store.unwrap = orig;
    }
    expect(retries).toEqual(["503 AUDIT_WRITE_FAILED"]);
  });

  it("connection refused: bounded retries, then TLS_CONNECT_FAILED naming the service", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r)); // nothing listens there now
    const retries: number[] = [];
    const kr = new RemoteKeyring({
      url: `https://127.0.0.1:${port}`,
      certDir: h.certs.trainer,
      retry: { attempts: 3, baseMs: 20 },
      onRetry: (e) => retries.push(e.attempt),
    });
    const t0 = Date.now();
    await expect(kr.listKeys()).rejects.toMatchObject({
      code: "TLS_CONNECT_FAILED",
      message: expect.stringMatching(/did not answer after 3 attempt\(s\) \(ECONNREFUSED\)/),
    });
    expect(retries).toEqual([1, 2]);
    expect(Date.now() - t0).toBeLessThan(2000);
    await kr.close();
  });

  it("a service that accepts but never answers: a timeout error, not a hang", async () => {
    const held: net.Socket[] = [];
    const srv = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    const kr = new RemoteKeyring({ url: `https://127.0.0.1:${port}`, certDir: h.certs.trainer, timeoutMs: 300, retry: { attempts: 2, baseMs: 10 } });
    const t0 = Date.now();
    await expect(kr.listKeys()).rejects.toMatchObject({ code: "TLS_CONNECT_FAILED" });
    expect(Date.now() - t0).toBeLessThan(3000);
    await kr.close();
    held.forEach((s) => s.destroy());
    await new Promise((r) => srv.close(r));
  });
});
