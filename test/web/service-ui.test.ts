/**
 * The key service's dashboard at /ui/ in a real browser: Debian's Chromium (playwright-core)
 * presents each identity's client certificate over real mTLS on loopback to a real key service
 * (SQLite store, the test policy). The policy decides what each identity sees: a key
 * administrator gets key admin actions and never a plaintext-bearing control nor the audit; an
 * auditor reads and exports the audit and changes nothing; an allowed certificate with no
 * dashboard right gets 403 and nothing else; a certificate of another CA gets no connection.
 * Admin actions need the typed confirmation, the session's CSRF token and the service's own
 * Origin, and each is audited on the service with the rule that allowed it.
 */
import { readFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLAINTEXT_OPERATIONS } from "../../src/server/policy/operations.js";
import { serviceDashboard } from "../../src/web/service-ui.js";
import { reachable, seriousViolations, tabWalk } from "./a11y.js";
import { POLICY_EXPORT, WHO, type Harness, type Who, startHarness } from "../server/api-harness.js";

let h: Harness;
let ui: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];

async function as(who: Who | "foreign"): Promise<BrowserContext> {
  const dir = h.certs[who];
  const c = await browser.newContext({
    ignoreHTTPSErrors: true, // the test CA's server certificate; the client side is what is tested
    acceptDownloads: true,
    clientCertificates: [{ origin: h.svc.url, certPath: path.join(dir, "cert.pem"), keyPath: path.join(dir, "key.pem") }],
  });
  await c.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  contexts.push(c);
  return c;
}

async function page(c: BrowserContext): Promise<Page> {
  const p = await c.newPage();
  p.on("pageerror", (e) => problems.push(`page error on ${p.url()}: ${e.message}`));
  p.on("request", (r) => {
    if (!r.url().startsWith(h.svc.url)) problems.push(`request outside the service: ${r.url()}`);
  });
  return p;
}

async function visit(p: Page, rel: string): Promise<number> {
  const res = await p.goto(ui + rel.replace(/^\//, ""));
  await p.waitForLoadState("load");
  expect(await p.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []), `CSP on ${rel}`).toEqual([]);
  return res!.status();
}

/** Every control and link on the page: what a viewer could act on. */
async function controls(p: Page): Promise<{ ops: string[]; actions: string[]; labels: string[] }> {
  return p.evaluate(() => ({
    ops: [...document.querySelectorAll("[data-op]")].map((e) => e.getAttribute("data-op") ?? ""),
    actions: [...document.querySelectorAll("form")].map((f) => f.getAttribute("action") ?? ""),
    labels: [...document.querySelectorAll("a, button, summary, input[type=submit]")].map(
      (e) => (e.textContent ?? "").trim() + " " + (e.getAttribute("href") ?? ""),
    ),
  }));
}

async function records(operation: string): Promise<{ principal: string; outcome: string; keyName: string | null; context: string | null }[]> {
  return (await h.svc.store.listAudit()).filter((r) => r.operation === operation);
}

beforeAll(async () => {
  h = await startHarness({ policy: POLICY_EXPORT, extend: serviceDashboard() });
  ui = `${h.svc.url}/ui/`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await h?.close();
});

describe("the key service's /ui/: the policy decides what each identity sees", () => {
  it("a key administrator gets the keys and their admin actions, never the audit nor a plaintext-bearing control", async () => {
    const p = await page(await as("admin"));
    for (const rel of ["/", "/keys", "/key?name=prod%2Fdatasets%2Fraw", "/certificates", "/alerts", "/posture"]) {
      expect(await visit(p, rel), rel).toBe(200);
      expect(await p.locator("header.site code").innerText()).toBe(WHO.admin);
      const c = await controls(p);
      for (const op of c.ops) expect(PLAINTEXT_OPERATIONS.has(op as never), `${op} on ${rel}`).toBe(false);
      for (const a of c.actions) expect(a, rel).toMatch(/^\/ui\/(key\/action)$/);
      for (const l of c.labels) expect(l, rel).not.toMatch(/\bdecrypt\b|unwrap|reveal|plaintext|secret|export|\/ui\/audit/i);
      expect(await p.locator("nav[aria-label=Dashboard]").innerText()).not.toMatch(/Audit|Principals/);
    }
    await visit(p, "/key?name=prod%2Fdatasets%2Fraw");
    expect((await controls(p)).ops.sort()).toEqual(["key.destroy", "key.disable", "key.enable", "key.rotate", "key.set-min-version"].sort());
    expect(await p.locator("#no-audit").count()).toBe(1);
    for (const rel of [
      "/audit",
      "/audit/export.jsonl",
      "/audit/export.csv",
      "/audit/record?seq=1",
      "/audit/timeline.svg",
      "/principals",
      `/principal?name=${encodeURIComponent(WHO.trainer)}`,
    ]) {
      const r = await p.request.get(ui + rel.slice(1));
      expect(r.status(), rel).toBe(403);
      expect(await r.text(), rel).not.toContain("spiffe://acme.internal/prod/trainer");
    }
    expect(problems).toEqual([]);
  });

  it("an admin action through /ui/ needs the typed confirmation, the CSRF token and the service's Origin, and is audited on the service with its rule", async () => {
    const p = await page(await as("admin"));
    await visit(p, "/key?name=shared%2Fsmall");
    expect(await p.locator("main").innerText()).toContain("Primary v1");
    const form = p.locator("form.confirm-form[data-op='key.rotate']");
    await p
      .locator("summary")
      .filter({ hasText: /^Rotate$/ })
      .click();
    await form.getByLabel(/Type the key name/).fill("shared/smal");
    expect(await form.getByRole("button", { name: "Rotate" }).isDisabled()).toBe(true);
    const csrf = await form.locator("input[name=csrf]").inputValue();
    const origin = h.svc.url;
    const before = (await records("key.rotate")).length;
    // forged or incomplete submissions change nothing and are not decided
    expect(
      (await p.request.post(ui + "key/action", { form: { csrf, name: "shared/small", action: "rotate", confirm: "wrong" }, headers: { origin } })).status(),
    ).toBe(400);
    expect(
      (await p.request.post(ui + "key/action", { form: { name: "shared/small", action: "rotate", confirm: "shared/small" }, headers: { origin } })).status(),
    ).toBe(403);
    expect(
      (
        await p.request.post(ui + "key/action", {
          form: { csrf, name: "shared/small", action: "rotate", confirm: "shared/small" },
          headers: { origin: "https://evil.example" },
        })
      ).status(),
    ).toBe(403);
    expect((await p.request.post(ui + "key/action", { form: { csrf, name: "shared/small", action: "rotate", confirm: "shared/small" } })).status()).toBe(403); // mTLS: no Origin, no change
    expect((await records("key.rotate")).length).toBe(before);
    expect((await records("authz.key.rotate")).length).toBe(0);

    await form.getByLabel(/Type the key name/).fill("shared/small");
    await form.getByRole("button", { name: "Rotate" }).click();
    await p.waitForLoadState("load");
    expect(await p.locator("#flash").innerText()).toBe("shared/small: rotated: primary is now v2");
    expect(await p.locator("main").innerText()).toContain("Primary v2");
    expect((await h.svc.store.showKey("shared/small")).primaryVersion).toBe(2);
    // one record for the allowed action, carrying the rule that allowed it; no separate decision
    const rotated = (await records("key.rotate")).filter((r) => r.keyName === "shared/small" && r.principal === WHO.admin);
    expect(rotated).toHaveLength(1);
    expect(rotated[0]).toMatchObject({ outcome: "ok" });
    expect(JSON.parse(rotated[0]!.context!)["@rule"]).toBe("ops");
    expect((await records("authz.key.rotate")).length).toBe(0);
    expect(problems).toEqual([]);
  });

  it("an auditor sees the audit, filters and exports it (an audited audit.export), and is offered no admin action", async () => {
    const c = await as("auditor");
    const p = await page(c);
    expect(await visit(p, `/audit?operation=key.rotate&principal=${encodeURIComponent(WHO.admin)}`)).toBe(200);
    const rows = await p.locator("#records tbody tr").allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(WHO.admin);
    expect(await visit(p, "/key?name=shared%2Fsmall")).toBe(403); // this policy gives the auditor key.list, not key.show
    expect((await controls(p)).ops).toEqual([]);
    const forged = await p.request.post(ui + "key/action", {
      form: { csrf: "x", name: "shared/small", action: "rotate", confirm: "shared/small" },
      headers: { origin: h.svc.url },
    });
    expect(forged.status()).toBe(403);

    await visit(p, `/audit?principal=${encodeURIComponent(WHO.admin)}`);
    const shown = (await p.locator("#records tbody tr td:first-child").allInnerTexts()).map(Number);
    const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("link", { name: /JSON lines/ }).click()]);
    const lines = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { schema: string; seq: number; principal: string });
    const expected = (await h.svc.store.listAudit()).filter((r) => r.principal === WHO.admin).map((r) => r.seq);
    expect(lines.map((l) => l.seq)).toEqual(expected.filter((s) => s <= Math.max(...lines.map((l) => l.seq))));
    expect(
      lines
        .map((l) => l.seq)
        .slice(-shown.length)
        .reverse(),
    ).toEqual(shown);
    for (const l of lines) expect(l).toMatchObject({ schema: "pipeseal.audit.v1", principal: WHO.admin });
    const exported = await records("audit.export");
    expect(exported).toHaveLength(1);
    expect(exported[0]).toMatchObject({ principal: WHO.auditor, outcome: "ok" });
    expect(JSON.parse(exported[0]!.context!)).toMatchObject({ "@rule": "audit", principal: WHO.admin });
    expect(problems).toEqual([]);
  });

  it("an allowed certificate with no dashboard right gets 403 and nothing else, and the refusal is audited", async () => {
    const c = await as("stranger");
    const before = (await records("authz.audit.read")).length;
    for (const rel of ["", "keys", "key?name=prod%2Fdatasets%2Fraw", "audit", "audit/export.jsonl", "assets/app.js", "certificates", "nope"]) {
      const r = await c.request.get(ui + rel);
      expect(r.status(), rel).toBe(403);
      const body = await r.text();
      expect(body, rel).not.toMatch(/prod\/datasets|spiffe:\/\/acme\.internal\/prod\/(?!stranger)|<html/);
      expect(r.headers()["set-cookie"], rel).toBeUndefined();
    }
    const post = await c.request.post(ui + "key/action", {
      form: { name: "shared/small", action: "rotate", confirm: "shared/small" },
      headers: { origin: h.svc.url },
    });
    expect(post.status()).toBe(403);
    const denied = (await records("authz.audit.read")).slice(before);
    expect(denied.length).toBeGreaterThanOrEqual(9);
    for (const d of denied) expect(d).toMatchObject({ principal: WHO.stranger, outcome: "denied" });
    expect((await h.svc.store.showKey("shared/small")).primaryVersion).toBe(2);
  });

  it("each identity's pages pass axe (no serious or critical violation) and Tab reaches every control with the focus visible", async () => {
    const sessions: [Who, string[]][] = [
      ["admin", ["/", "/keys", "/key?name=prod%2Fdatasets%2Fraw", "/certificates", "/alerts", "/posture"]],
      [
        "auditor",
        [
          "/",
          "/keys",
          "/audit",
          "/audit?operation=key.rotate",
          "/audit/record?seq=1",
          "/principals",
          `/principal?name=${encodeURIComponent(WHO.admin)}`,
          "/alerts",
        ],
      ],
    ];
    for (const [who, pages] of sessions) {
      const p = await page(await as(who));
      for (const rel of pages) {
        expect(await visit(p, rel), `${who} ${rel}`).toBe(200);
        expect(await seriousViolations(p), `${who} ${rel}`).toEqual([]);
        const stops = await tabWalk(p);
        expect(stops.length, `${who} ${rel}: stops vs. focusable elements`).toBe(await reachable(p));
        expect(new Set(stops.map((s) => s.index)).size, `${who} ${rel}`).toBe(stops.length);
        expect(
          stops.filter((s) => !s.visible).map((s) => s.what),
          `${who} ${rel}: focus not visible`,
        ).toEqual([]);
        if (rel === "/audit") expect(stops.filter((s) => s.inside.some((i) => i.startsWith("form"))).length, "auditor: the filters").toBeGreaterThan(4);
        if (rel.startsWith("/key?"))
          expect(
            stops
              .filter((s) => s.tag === "summary")
              .map((s) => s.what.split(" ").slice(1).join(" "))
              .sort(),
            "admin: the key actions",
          ).toEqual(expect.arrayContaining(["Rotate"]));
      }
      await p.close();
    }
    expect(problems).toEqual([]);
  });

  it("a certificate of another CA, or none, gets no answer at all", async () => {
    const c = await as("foreign");
    await expect(c.request.get(ui)).rejects.toThrow();
    const none = await new Promise<string>((resolve) => {
      const req = https.get(ui, { rejectUnauthorized: false }, (res) => resolve(`status ${res.statusCode}`));
      req.on("error", (e) => resolve(`error ${e.message}`));
    });
    expect(none).toMatch(/^error /);
  });
});
