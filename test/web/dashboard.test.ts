/**
 * `pipeseal ui` in a real browser: the built CLI serves a filled keystore, Debian's Chromium
 * (driven by playwright-core) reads it. Every page is checked for console errors, page
 * errors, CSP violations and requests leaving the server; then the session gate, escaping,
 * filters, paging, exports, the admin action's confirmation and audit, and the keyboard.
 * Set UI_SCREENSHOTS=docs/ui to save screenshots of the main pages.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/keystore.js";
import { PRINCIPALS, XSS_CONTEXT_VALUE, XSS_OBJECT, XSS_PRINCIPAL, fillKeystore, type Filled } from "./fill.js";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "dist/cli/bin.js");
const SHOTS = process.env.UI_SCREENSHOTS ? path.resolve(ROOT, process.env.UI_SCREENSHOTS) : null;

const dir = tempDir("pipeseal-ui-");
let filled: Filled;
let server: ChildProcess;
let loginUrl: string;
let origin: string;
let browser: Browser;
let context: BrowserContext;
const problems: string[] = [];
let loginStatus = 0;
let landedAt = "";

/** Starts `pipeseal ui` and returns its first stdout line. */
async function startUi(args: string[]): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(process.execPath, [BIN, "--home", filled.home, "ui", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PIPESEAL_HOME: "" },
  });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const lines = createInterface({ input: child.stdout! });
  const firstLine = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`pipeseal ui exited ${code}: ${stderr}`)));
  });
  return { child, firstLine };
}

async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()} on ${p.url()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => problems.push(`page error on ${p.url()}: ${e.message}`));
  p.on("dialog", (dlg) => {
    problems.push(`dialog: ${dlg.message()}`);
    void dlg.dismiss();
  });
  p.on("request", (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request outside the server: ${r.url()}`);
  });
  return p;
}

async function cspViolations(p: Page): Promise<string[]> {
  return p.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

async function visit(p: Page, pathAndQuery: string): Promise<number> {
  const res = await p.goto(origin + pathAndQuery.replace(/^\//, ""));
  await p.waitForLoadState("load");
  expect(await cspViolations(p), `CSP violations on ${pathAndQuery}`).toEqual([]);
  return res!.status();
}

/** GET with a given Host header and optional cookie, outside the browser. */
function rawGet(pathAndQuery: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: pathAndQuery, headers }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      })
      .on("error", reject);
  });
}

beforeAll(async () => {
  filled = await fillKeystore(dir, 3000);
  const started = await startUi(["--alerts", filled.alertsFile, "--posture", filled.postureDir]);
  server = started.child;
  loginUrl = started.firstLine;
  origin = loginUrl.slice(0, loginUrl.indexOf("?"));
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const p = await newPage();
  loginStatus = await visit(p, loginUrl.slice(origin.length));
  landedAt = p.url();
  await p.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

describe("pipeseal ui: the session gate", () => {
  it("prints exactly the URL with a token on its first line, on 127.0.0.1", () => {
    expect(loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it("answers 401 to every page, asset and export without a session, and to a wrong token", async () => {
    for (const p of ["/", "/audit", "/keys", "/assets/site.css", "/assets/app.js", "/audit/export.jsonl", "/audit/timeline.svg", "/posture/report", "/nope"]) {
      const r = await rawGet(p, { host: new URL(origin).host });
      expect(r.status, p).toBe(401);
      expect(r.body).not.toContain("datasets/pii");
    }
    expect((await rawGet("/?token=" + "A".repeat(43), { host: new URL(origin).host })).status).toBe(401);
    expect((await rawGet("/", { host: new URL(origin).host, cookie: "pipeseal_ui=forged" })).status).toBe(401);
  });

  it("turns the token into an HttpOnly SameSite=Strict cookie once; the token then no longer works", async () => {
    expect(loginStatus).toBe(200);
    expect(landedAt).toBe(origin); // redirected: the token left the address bar
    const p = await newPage();
    await visit(p, "/");
    const [cookie] = await context.cookies(origin);
    expect(cookie).toMatchObject({ name: "pipeseal_ui", httpOnly: true, sameSite: "Strict", path: "/" });
    expect(await p.evaluate(() => document.cookie)).toBe(""); // script cannot read it
    const again = await rawGet("/" + loginUrl.slice(origin.length), { host: new URL(origin).host });
    expect(again.status).toBe(401);
    await p.close();
  });

  it("refuses a foreign Host header (DNS rebinding) even with a valid session", async () => {
    const [cookie] = await context.cookies(origin);
    const r = await rawGet("/keys", { host: "evil.example:80", cookie: `pipeseal_ui=${cookie!.value}` });
    expect(r.status).toBe(421);
    expect(r.body).not.toContain("datasets/pii");
    expect((await rawGet("/keys", { host: new URL(origin).host, cookie: `pipeseal_ui=${cookie!.value}` })).status).toBe(200);
  });

  it("refuses to listen off loopback", async () => {
    const child = spawn(process.execPath, [BIN, "--home", filled.home, "ui", "--listen", "0.0.0.0:0"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr!.on("data", (c) => (err += c));
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(err).toMatch(/^pipeseal: pipeseal ui listens on loopback only.*\[INVALID_ARGUMENT\]\n$/);
  });
});

describe("pipeseal ui: the pages", () => {
  it("every page renders with no console error, CSP violation or outside request, on the filled keystore", async () => {
    const p = await newPage();
    const pages = [
      "/",
      "/keys",
      "/key?name=datasets%2Fpii",
      "/audit",
      "/audit?operation=unwrap&outcome=denied",
      "/audit/record?seq=3",
      "/principals",
      `/principal?name=${encodeURIComponent(PRINCIPALS[0]!)}`,
      "/alerts",
      "/certificates",
      "/posture",
      "/posture/report",
    ];
    for (const url of pages) {
      expect(await visit(p, url), url).toBe(200);
      if (url !== "/posture/report") expect(await p.locator("h1").count(), url).toBe(1);
    }
    expect(problems).toEqual([]);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      for (const [name, url] of [
        ["overview", "/"],
        ["keys", "/keys"],
        ["key", "/key?name=datasets%2Fpii"],
        ["audit", "/audit"],
        ["principals", "/principals"],
        ["alerts", "/alerts"],
        ["certificates", "/certificates"],
        ["posture", "/posture"],
      ] as const) {
        await visit(p, url);
        await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: name !== "posture" && name !== "audit" });
      }
    }
    await p.close();
  });

  it("the overview shows keys by state, rotation due, decrypts, open alerts, the chain and posture", async () => {
    const p = await newPage();
    await visit(p, "/");
    const text = await p.locator("main").innerText();
    expect(text).toMatch(/Keys\s+4/); // three and the CA's
    expect(text).toMatch(/1 overdue/); // models/prod (rotate every 1 s)
    expect(text).toContain("models/prod");
    expect(text).toMatch(/Open alerts\s+1/);
    expect(text).toContain("Passing"); // the newest posture report
    expect(await p.locator("svg.chart").count()).toBe(2);
    expect(text).toMatch(/prod\/api.*expires/); // 3-day server certificate
    await p.close();
  });

  it("shows markup in object names, principals, contexts and alert summaries as text", async () => {
    const p = await newPage();
    await visit(p, "/audit?key=logs%2Finference");
    const row = p.locator("#records tbody tr").first();
    await expect.poll(() => row.innerText()).toContain(XSS_OBJECT);
    expect(await row.innerText()).toContain(XSS_PRINCIPAL);
    expect(await row.innerText()).toContain(XSS_CONTEXT_VALUE);
    expect(await p.locator("#records img, #records b, #records script").count()).toBe(0);
    await row.getByRole("link", { name: XSS_PRINCIPAL }).click(); // its principal page renders it as text too
    await p.waitForLoadState("load");
    expect(await p.locator("h1").innerText()).toBe(`Principal ${XSS_PRINCIPAL}`);
    await visit(p, "/alerts");
    expect(await p.locator("main").innerText()).toContain("<script>window.__xss=4</script>");
    await visit(p, "/posture");
    expect(await p.locator("main").innerText()).toContain("acme <fraud> model");
    expect(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(problems).toEqual([]);
    await p.close();
  });

  it("filters change what is shown; paging walks the filtered set by seq without repeats", async () => {
    const p = await newPage();
    await visit(p, "/audit");
    await p.getByLabel("Principal").fill(PRINCIPALS[1]!);
    await p.getByLabel("Outcome").selectOption("denied");
    await p.getByRole("button", { name: "Apply filters" }).click();
    await p.waitForLoadState("load");
    const expected = filled.deniedSeqs.filter((s) => filled.seqsByPrincipal.get(PRINCIPALS[1]!)!.includes(s)).sort((a, b) => b - a);
    const shown = await p.locator("#records tbody tr td:first-child").allInnerTexts();
    expect(shown.map(Number)).toEqual(expected.slice(0, 50));
    for (const t of await p.locator("#records tbody tr td:nth-child(3)").allInnerTexts()) expect(t).toBe(PRINCIPALS[1]);

    await visit(p, `/audit?principal=${encodeURIComponent(PRINCIPALS[0]!)}`);
    const all = filled.seqsByPrincipal
      .get(PRINCIPALS[0]!)!
      .slice()
      .sort((a, b) => b - a);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      seen.push(...(await p.locator("#records tbody tr td:first-child").allInnerTexts()).map(Number));
      await p.getByRole("link", { name: "Older →" }).first().click();
      await p.waitForLoadState("load");
    }
    expect(seen).toEqual(all.slice(0, 150));
    await p.getByRole("link", { name: "← Newer" }).first().click();
    await p.waitForLoadState("load");
    expect((await p.locator("#records tbody tr td:first-child").allInnerTexts()).map(Number)).toEqual(all.slice(100, 150));

    await visit(p, "/audit?q=shard-00007&ctx=dataset%3Dusers");
    const objects = await p.locator("#records tbody tr td:nth-child(7)").allInnerTexts();
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) expect(o).toBe("s3://lake/shard-00007.pseal");
    for (const c of await p.locator("#records tbody tr td:nth-child(8)").allInnerTexts()) expect(c).toContain('"dataset":"users"');
    await visit(p, "/audit?principal=nobody");
    expect(await p.locator("#no-records").count()).toBe(1);
    expect(await visit(p, "/audit?version=x")).toBe(400);
    expect(await p.locator("#error").innerText()).toBe("version must be a positive whole number [INVALID_ARGUMENT]");
    const expectedError = problems.findIndex((x) => x.includes("status of 400"));
    expect(expectedError).toBeGreaterThanOrEqual(0); // the browser logs the 400 it was sent on purpose
    problems.splice(expectedError, 1);
    await p.close();
  });

  it("exports exactly the filtered records, as JSON lines (pipeseal.audit.v1) and CSV", async () => {
    const p = await newPage();
    const principal = PRINCIPALS[2]!;
    await visit(p, `/audit?principal=${encodeURIComponent(principal)}&key=datasets%2Fpii`);
    const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("link", { name: /JSON lines/ }).click()]);
    const lines = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { schema: string; seq: number; principal: string; key: string });
    const expected = filled.bulk.filter((r) => r.principal === principal && r.key === "datasets/pii").map((r) => r.seq);
    for (const l of lines) expect(l).toMatchObject({ schema: "pipeseal.audit.v1", principal, key: "datasets/pii" });
    const keyed = lines.map((l) => l.seq);
    expect(keyed).toEqual(expected); // exactly the filtered set, oldest first
    const [csv] = await Promise.all([p.waitForEvent("download"), p.getByRole("link", { name: "CSV" }).click()]);
    const rows = readFileSync((await csv.path())!, "utf8")
      .trim()
      .split("\n");
    expect(rows[0]).toBe("seq,time,principal,operation,key,version,outcome,errorCode,rule,object,headerHash,context,chainHash");
    expect(rows.slice(1).map((r) => Number(r.split(",")[0]))).toEqual(keyed);
    // each export is itself an audit record, carrying its filter
    await visit(p, "/audit?operation=audit.export");
    const ctx = await p.locator("#records tbody tr td:nth-child(8)").allInnerTexts();
    expect(ctx.length).toBe(2);
    expect(ctx[0]).toContain(`"principal":"${principal}"`);
    await p.close();
  });

  it("an admin action needs the key name typed out, is refused otherwise, and is audited", async () => {
    const p = await newPage();
    await visit(p, "/key?name=logs%2Finference");
    await p
      .locator("summary")
      .filter({ hasText: /^Rotate$/ })
      .click(); // the <summary>
    const form = p.locator("form.confirm-form").first();
    const button = form.getByRole("button", { name: "Rotate" });
    await form.getByLabel(/Type the key name/).fill("logs/inferenc");
    expect(await button.isDisabled()).toBe(true);
    // the server checks too: a forged submission with the wrong name changes nothing
    const csrf = await form.locator("input[name=csrf]").inputValue();
    const forged = await p.request.post(origin + "key/action", { form: { csrf, name: "logs/inference", action: "rotate", confirm: "wrong" } });
    expect(forged.status()).toBe(400);
    const noCsrf = await p.request.post(origin + "key/action", { form: { name: "logs/inference", action: "rotate", confirm: "logs/inference" } });
    expect(noCsrf.status()).toBe(403);
    await visit(p, "/key?name=logs%2Finference");
    expect(await p.locator("main").innerText()).toContain("Primary v1");
    await p
      .locator("summary")
      .filter({ hasText: /^Rotate$/ })
      .click();
    await form.getByLabel(/Type the key name/).fill("logs/inference");
    await form.getByRole("button", { name: "Rotate" }).click();
    await p.waitForLoadState("load");
    expect(await p.locator("#flash").innerText()).toBe("logs/inference: rotated: primary is now v2");
    expect(await p.locator("main").innerText()).toContain("Primary v2");
    await visit(p, "/audit?operation=key.rotate&key=logs%2Finference");
    const rows = await p.locator("#records tbody tr").allInnerTexts();
    expect(rows).toHaveLength(1);
    const identity = await p.locator("header.site code").innerText(); // who the dashboard acts as (the keystore's principal)
    expect(identity.length).toBeGreaterThan(0);
    expect(rows[0]).toContain(`\t${identity}\tkey.rotate\tlogs/inference v2\tok`);
    expect(problems).toEqual([]);
    await p.close();
  });

  it("verify chain reports the chain as verified, up to the head", async () => {
    const p = await newPage();
    await visit(p, "/audit");
    await Promise.all([p.waitForEvent("framenavigated"), p.getByRole("button", { name: "Verify chain" }).click()]);
    await p.waitForLoadState("load");
    expect(await p.locator("#flash").innerText()).toMatch(/^Audit chain verified: [0-9]+ records\.$/);
    expect(await p.locator("#chain-status").innerText()).toMatch(/Verified up to record [0-9,]+/);
    await p.close();
  });

  it("works from the keyboard: skip link, navigation, '/' to search, labelled controls", async () => {
    const p = await newPage();
    await visit(p, "/");
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await p.keyboard.press("Enter");
    expect(await p.evaluate(() => document.activeElement?.id)).toBe("main");
    await visit(p, "/");
    await p.keyboard.press("Tab"); // skip link
    for (let i = 0; i < 3; i++) await p.keyboard.press("Tab"); // Overview, Keys, Audit
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Audit");
    await p.keyboard.press("Enter");
    await p.waitForURL(origin + "audit");
    await p.keyboard.press("/");
    expect(await p.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe("q");
    await p.keyboard.type("key.rotate");
    await p.keyboard.press("Enter");
    await p.waitForURL(/q=key.rotate/);
    for (const o of await p.locator("#records tbody tr td:nth-child(4)").allInnerTexts()) expect(o).toBe("key.rotate");
    for (const url of ["/audit", "/key?name=datasets%2Fpii"]) {
      await visit(p, url);
      const unlabelled = await p.evaluate(() =>
        [...document.querySelectorAll("input:not([type=hidden]), select, button")]
          .filter((el) => {
            const e = el as HTMLInputElement;
            return !(e.labels && e.labels.length > 0) && !e.getAttribute("aria-label") && !(el.tagName === "BUTTON" && el.textContent?.trim());
          })
          .map((el) => el.outerHTML),
      );
      expect(unlabelled, url).toEqual([]);
      expect(await p.evaluate(() => [...document.querySelectorAll("img")].filter((i) => !i.alt).length)).toBe(0);
      expect(await p.evaluate(() => document.documentElement.lang)).toBe("en");
    }
    await p.close();
  });
});
