/**
 * Accessibility of every page of `pipeseal ui` (the built CLI over a filled keystore with
 * alerts in its ledger and posture reports), in Debian's Chromium: axe-core
 * (@axe-core/playwright) finds no serious or critical violation, and the Tab key reaches every
 * link, filter, table link and action on the page, in document order, with the focus visible at
 * each stop. An admin action is then done from the keyboard alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { ensureMonitorTables, noteAlert } from "../../src/monitor/store/alerts.js";
import { ALERT_SCHEMA } from "../../src/monitor/types.js";
import { tempDir } from "../helpers/keystore.js";
import { reachable, seriousViolations, tabWalk } from "./a11y.js";
import { PRINCIPALS, fillKeystore, type Filled } from "./fill.js";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "dist/cli/bin.js");

const dir = tempDir("pipeseal-ui-a11y-");
let filled: Filled;
let server: ChildProcess;
let origin: string;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  filled = await fillKeystore(dir, 600);
  const ks = await openKeystore(filled.home, { principal: "monitor" });
  try {
    ensureMonitorTables(ks);
    const seqs = filled.seqsByPrincipal.get(PRINCIPALS[2]!)!.slice(0, 10);
    const now = Date.now();
    noteAlert(ks, {
      schema: ALERT_SCHEMA,
      id: "al_" + "d".repeat(24),
      detection: "volume-spike",
      severity: "high",
      principal: PRINCIPALS[2]!,
      key: "datasets/pii",
      time: new Date(now - 7_200_000).toISOString(),
      lastTime: new Date(now - 3_600_000).toISOString(),
      state: "open",
      seqs,
      seqsOmitted: 0,
      summary: "read 900 objects in 1 h against 40 normally",
      evidence: { observed: 900, baseline: 40 },
    });
  } finally {
    ks.close();
  }
  server = spawn(process.execPath, [BIN, "--home", filled.home, "ui", "--posture", filled.postureDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PIPESEAL_HOME: "" },
  });
  let stderr = "";
  server.stderr!.on("data", (c) => (stderr += c));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once("line", resolve);
    server.once("exit", (code) => reject(new Error(`pipeseal ui exited ${code}: ${stderr}`)));
  });
  origin = loginUrl.slice(0, loginUrl.indexOf("?"));
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const p = await context.newPage();
  await p.goto(loginUrl);
  await p.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

const PAGES = () => [
  "/",
  "/keys",
  "/key?name=datasets%2Fpii",
  "/audit",
  `/audit?principal=${encodeURIComponent(PRINCIPALS[0]!)}&outcome=denied`,
  `/audit/record?seq=${filled.bulk[0]!.seq}`,
  "/principals",
  `/principal?name=${encodeURIComponent(PRINCIPALS[1]!)}`,
  "/alerts",
  "/certificates",
  "/posture",
];

async function open(p: Page, rel: string): Promise<void> {
  const res = await p.goto(origin + rel.slice(1));
  expect(res!.status(), rel).toBe(200);
  await p.waitForLoadState("load");
}

describe("accessibility of every page", () => {
  it("axe-core finds no serious or critical violation on any page", async () => {
    const p = await context.newPage();
    for (const rel of PAGES()) {
      await open(p, rel);
      expect(await seriousViolations(p), rel).toEqual([]);
    }
    // the admin actions' forms as a keyboard user sees them once opened
    await open(p, "/key?name=datasets%2Fpii");
    await p.evaluate(() => document.querySelectorAll("details").forEach((d) => (d.open = true)));
    expect(await seriousViolations(p), "key page, actions open").toEqual([]);
    await p.close();
  });

  it("Tab reaches every link, filter, table link and action in order, with the focus visible at each", async () => {
    const p = await context.newPage();
    for (const rel of PAGES()) {
      await open(p, rel);
      const stops = await tabWalk(p);
      const order = stops.map((s) => s.index);
      expect(new Set(order).size, `${rel}: a stop repeats before the walk wraps`).toBe(stops.length);
      expect(order, `${rel}: tab order is document order`).toEqual([...order].sort((a, b) => a - b));
      expect(stops.length, `${rel}: stops vs. focusable elements`).toBe(await reachable(p));
      expect(
        stops.filter((s) => !s.visible).map((s) => s.what),
        `${rel}: focus not visible`,
      ).toEqual([]);
      expect(stops[0]!.what, rel).toMatch(/Skip to content/);
      expect(
        stops.some((s) => s.inside.includes("nav")),
        `${rel}: navigation`,
      ).toBe(true);
      if (rel.startsWith("/audit") && !rel.startsWith("/audit/")) {
        for (const f of ["principal", "key", "operation", "outcome", "q"])
          expect(
            stops.some((s) => s.what.includes(` ${f}`) && s.inside.some((i) => i.startsWith("form"))),
            `${rel}: filter ${f}`,
          ).toBe(true);
        expect(
          stops.some((s) => s.inside.some((i) => i.startsWith("table"))),
          `${rel}: the records table`,
        ).toBe(true);
        expect(
          stops.some((s) => /Verify chain/i.test(s.what)),
          `${rel}: verify chain`,
        ).toBe(true);
        expect(
          stops.some((s) => /export\.jsonl/.test(s.what)),
          `${rel}: export`,
        ).toBe(true);
      }
      if (rel.startsWith("/key?"))
        for (const a of ["Rotate", "Disable", "Destroy"])
          expect(
            stops.some((s) => s.tag === "summary" && s.what.includes(a)),
            `${rel}: ${a}`,
          ).toBe(true);
      if (rel === "/alerts")
        expect(
          stops.some((s) => s.tag === "button" && s.what.includes("Acknowledge")),
          "alerts: acknowledge",
        ).toBe(true);
      if (rel === "/keys" || rel === "/principals" || rel === "/certificates")
        expect(stops.some((s) => s.inside.some((i) => i.startsWith("table")) && s.tag === "a") || rel === "/certificates", `${rel}: table links`).toBe(true);
    }
    await p.close();
  });

  it("an admin action can be done from the keyboard alone: open it, type the name, submit", async () => {
    const p = await context.newPage();
    await open(p, "/key?name=logs%2Finference");
    const stops = await tabWalk(p);
    const rotateAt = stops.findIndex((s) => s.tag === "summary" && s.what.includes("Rotate"));
    expect(rotateAt).toBeGreaterThan(0);
    await open(p, "/key?name=logs%2Finference"); // a fresh visit: the focus starts at the top
    for (let i = 0; i <= rotateAt; i++) await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Rotate");
    await p.keyboard.press("Enter"); // opens the details
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe("confirm");
    await p.keyboard.type("logs/inference");
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Rotate");
    await Promise.all([p.waitForURL(/key\?name=logs/), p.keyboard.press("Enter")]);
    await p.waitForLoadState("load");
    expect(await p.locator("#flash").innerText()).toMatch(/^logs\/inference: rotated: primary is now v2/);
    await p.close();
  });
});
