/**
 * The key service's /ui/ for a caller with a bearer token and no client certificate
 * (`tokensWithoutCertificate: true`), in Debian's Chromium over real TLS on loopback: the
 * token's identity is the viewer and the policy, narrowed by the token's operations, decides
 * what it sees; no token or a forged one gets 401 and nothing else. And over a PostgreSQL store
 * /ui/ says so (501) only to a caller the service admits.
 */
import path from "node:path";
import { type Browser } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceDashboard } from "../../src/web/service-ui.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { POLICY_EXPORT, TD, WHO, type Harness, startHarness } from "../server/api-harness.js";

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness({
    policy: POLICY_EXPORT,
    extend: serviceDashboard(),
    config: `listen: { host: 127.0.0.1, port: 0 }\ncertDir: certs/server\nallow: ["${TD}/prod/*"]\nkeyringId: ks:test\nstore: { kind: sqlite, home: ks }\npolicy: policy.yaml\ntokensWithoutCertificate: true\n`,
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function withToken(token: string | null) {
  return browser.newContext({
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    ...(token === null ? {} : { extraHTTPHeaders: { authorization: `Bearer ${token}` } }),
  });
}

describe("/ui/ with a bearer token and no certificate", () => {
  it("no token, or a forged one: 401 on every page and asset, nothing of the store", async () => {
    const { token } = await h.keyring("auditor").mintToken({ ttlSeconds: 60 });
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const t of [null, forged, "not-a-token"]) {
      const c = await withToken(t);
      for (const rel of ["", "audit", "audit/export.jsonl", "keys", "assets/app.js"]) {
        const r = await c.request.get(`${h.svc.url}/ui/${rel}`);
        expect(r.status(), `${t?.slice(0, 8)} ${rel}`).toBe(401);
        expect(await r.text()).not.toMatch(/prod\/datasets|spiffe:\/\/|<html/);
        expect(r.headers()["set-cookie"]).toBeUndefined();
      }
      await c.close();
    }
  });

  it("the auditor's token: the audit, shown and exported as the auditor; a token narrowed to key.list: no audit", async () => {
    const { token } = await h.keyring("auditor").mintToken({ ttlSeconds: 60 });
    const c = await withToken(token);
    const p = await c.newPage();
    expect((await p.goto(`${h.svc.url}/ui/audit`))!.status()).toBe(200);
    expect(await p.locator("header.site code").innerText()).toBe(WHO.auditor);
    expect(await p.locator("#records tbody tr").count()).toBeGreaterThan(0);
    const exp = await p.request.get(`${h.svc.url}/ui/audit/export.jsonl`);
    expect(exp.status()).toBe(200);
    const exported = (await h.svc.store.listAudit()).filter((r) => r.operation === "audit.export"); // one record per allowed export, with its rule
    expect(exported.at(-1)).toMatchObject({ principal: WHO.auditor, outcome: "ok" });
    await c.close();

    const narrow = await h.keyring("auditor").mintToken({ ttlSeconds: 60, operations: ["key.list"] });
    const n = await withToken(narrow.token);
    const q = await n.newPage();
    expect((await q.goto(`${h.svc.url}/ui/keys`))!.status()).toBe(200);
    expect((await q.goto(`${h.svc.url}/ui/audit`))!.status()).toBe(403);
    expect(await q.locator("nav[aria-label=Dashboard]").innerText()).not.toMatch(/Audit/);
    expect((await q.request.get(`${h.svc.url}/ui/audit/export.jsonl`)).status()).toBe(403);
    await n.close();
  });
});

describe("/ui/ over a PostgreSQL store", () => {
  let pg: TestPostgres;
  let hp: Harness;
  beforeAll(async () => {
    pg = await startPostgres();
    await pg.createDatabase("ks_ui");
    hp = await startHarness({
      policy: POLICY_EXPORT,
      extend: serviceDashboard(),
      postgresUrl: `postgresql://postgres@localhost:${pg.port}/ks_ui?host=${encodeURIComponent(pg.socketDir)}`,
    });
  }, 120_000);
  afterAll(async () => {
    await hp?.close();
    await pg?.stop();
  });

  it("answers 501 with a page saying so to an admitted certificate, and 403 to one without a dashboard right", async () => {
    const as = (who: "auditor" | "stranger") =>
      browser.newContext({
        ignoreHTTPSErrors: true,
        clientCertificates: [{ origin: hp.svc.url, certPath: path.join(hp.certs[who], "cert.pem"), keyPath: path.join(hp.certs[who], "key.pem") }],
      });
    const a = await as("auditor");
    const r = await a.request.get(`${hp.svc.url}/ui/audit`);
    expect(r.status()).toBe(501);
    expect(await r.text()).toMatch(/served over a SQLite store; this key service keeps its keys in postgres/);
    const s = await as("stranger");
    expect((await s.request.get(`${hp.svc.url}/ui/`)).status()).toBe(403);
    await a.close();
    await s.close();
  });
});
