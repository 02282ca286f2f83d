/**
 * The Alerts page over the keystore's alert ledger (what `monitor run` keeps), in a real
 * browser against the built CLI: open and acknowledged alerts each with their plain-words
 * summary and records; acknowledging one from the page with a note writes the ledger's ack and
 * one `monitor.ack` audit record carrying the note. Forged or incomplete acks change nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openKeystore } from "../../src/keys/index.js";
import { ensureMonitorTables, listAlerts, noteAlert } from "../../src/monitor/store/alerts.js";
import { ALERT_SCHEMA, type Alert } from "../../src/monitor/types.js";
import { tempDir } from "../helpers/keystore.js";
import { PRINCIPALS, fillKeystore, type Filled } from "./fill.js";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "dist/cli/bin.js");
const HOUR = 3_600_000;
const SPIKE = "al_" + "a".repeat(24);
const ODD_HOURS = "al_" + "b".repeat(24);
const MARKUP_SUMMARY = "<img src=x onerror=window.__xss=5> read 900 objects in 1 h against 40 normally";

const dir = tempDir("pipeseal-ui-ack-");
let filled: Filled;
let server: ChildProcess;
let origin: string; // http://127.0.0.1:PORT/
let browser: Browser;
let context: BrowserContext;
const problems: string[] = [];

function alert(id: string, summary: string, principal: string, seqs: number[]): Alert {
  const now = Date.now();
  return {
    schema: ALERT_SCHEMA,
    id,
    detection: "volume-spike",
    severity: "high",
    principal,
    key: "datasets/pii",
    time: new Date(now - 2 * HOUR).toISOString(),
    lastTime: new Date(now - HOUR).toISOString(),
    state: "open",
    seqs,
    seqsOmitted: 0,
    summary,
    evidence: { observed: 900, baseline: 40 },
  };
}

async function withKeystore<T>(run: (ks: Awaited<ReturnType<typeof openKeystore>>) => T): Promise<T> {
  const ks = await openKeystore(filled.home, { principal: "test-reader" });
  try {
    return run(ks);
  } finally {
    ks.close();
  }
}

async function ackRecords(): Promise<{ principal: string; objectPath: string | null; context: Record<string, string> }[]> {
  return withKeystore((ks) =>
    ks
      .listAudit()
      .filter((r) => r.operation === "monitor.ack")
      .map((r) => ({ principal: r.principal, objectPath: r.objectPath, context: JSON.parse(r.context ?? "{}") as Record<string, string> })),
  );
}

async function newPage(): Promise<Page> {
  const p = await context.newPage();
  p.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error on ${p.url()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => problems.push(`page error on ${p.url()}: ${e.message}`));
  return p;
}

beforeAll(async () => {
  filled = await fillKeystore(dir, 300);
  const seqs = filled.seqsByPrincipal.get(PRINCIPALS[2]!)!.slice(0, 12);
  await withKeystore((ks) => {
    ensureMonitorTables(ks);
    noteAlert(ks, alert(SPIKE, MARKUP_SUMMARY, PRINCIPALS[2]!, seqs));
    noteAlert(ks, alert(ODD_HOURS, "read at 03:00 where it reads between 08:00 and 19:00", PRINCIPALS[0]!, seqs.slice(0, 2)));
  });
  // no --alerts: the dashboard reads (and acknowledges in) the keystore's ledger
  server = spawn(process.execPath, [BIN, "--home", filled.home, "ui"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PIPESEAL_HOME: "" } });
  let stderr = "";
  server.stderr!.on("data", (c) => (stderr += c));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).once("line", resolve);
    server.once("exit", (code) => reject(new Error(`pipeseal ui exited ${code}: ${stderr}`)));
  });
  origin = loginUrl.slice(0, loginUrl.indexOf("?"));
  browser = await launchChromium();
  context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const p = await newPage();
  await p.goto(loginUrl);
  await p.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
});

describe("Alerts: open and acknowledged, acknowledge with a note from the page", () => {
  it("shows each open alert with its plain-words summary (as text) and links to its records", async () => {
    const p = await newPage();
    await p.goto(origin + "alerts");
    const row = p.locator(`#open-alerts + table tr[data-alert='${SPIKE}']`);
    expect(await row.innerText()).toContain(MARKUP_SUMMARY);
    expect(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await p.locator("#open-alerts").innerText()).toBe("Open (2)");
    expect(await p.locator("#acked-alerts").innerText()).toBe("Acknowledged or closed (0)");
    const seq = filled.seqsByPrincipal.get(PRINCIPALS[2]!)![0]!;
    await row.getByRole("link", { name: `audit record ${seq}` }).click();
    await p.waitForURL(/audit\/record\?seq=/);
    expect(await p.locator("main").innerText()).toContain(PRINCIPALS[2]!);
    await p.close();
  });

  it("refuses an ack without the form's token, from another origin, or with no note, and records nothing", async () => {
    const p = await newPage();
    await p.goto(origin + "alerts");
    const csrf = await p.locator(`form.ack-form:has(input[name=id][value='${SPIKE}']) input[name=csrf]`).inputValue();
    const own = origin.slice(0, -1);
    expect((await p.request.post(origin + "alerts/ack", { form: { id: SPIKE, note: "forged" }, headers: { origin: own } })).status()).toBe(403);
    expect(
      (await p.request.post(origin + "alerts/ack", { form: { csrf, id: SPIKE, note: "forged" }, headers: { origin: "http://evil.example" } })).status(),
    ).toBe(403);
    const empty = await p.request.post(origin + "alerts/ack", { form: { csrf, id: SPIKE, note: "   " }, headers: { origin: own } });
    expect(empty.status()).toBe(400);
    expect(await empty.text()).toContain("MONITOR_INPUT_INVALID");
    const unknown = await p.request.post(origin + "alerts/ack", { form: { csrf, id: "al_" + "c".repeat(24), note: "x" }, headers: { origin: own } });
    expect(unknown.status()).toBe(404);
    expect(await ackRecords()).toEqual([]);
    expect(await withKeystore((ks) => listAlerts(ks).map((s) => s.ack))).toEqual([null, null]);
    await p.close();
  });

  it("a --read-only dashboard shows the alerts without the form and refuses the ack", async () => {
    const ro = spawn(process.execPath, [BIN, "--home", filled.home, "ui", "--read-only"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PIPESEAL_HOME: "" },
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: ro.stdout! }).once("line", resolve);
        ro.once("exit", (code) => reject(new Error(`pipeseal ui --read-only exited ${code}`)));
      });
      const roOrigin = url.slice(0, url.indexOf("?"));
      const c = await browser.newContext();
      const p = await c.newPage();
      await p.goto(url);
      await p.goto(roOrigin + "alerts");
      expect(await p.locator(`tr[data-alert='${SPIKE}']`).innerText()).toContain(MARKUP_SUMMARY);
      expect(await p.locator("form.ack-form").count()).toBe(0);
      const csrf = await p.evaluate(async () => (await (await fetch("/audit")).text()).match(/name="csrf" value="([^"]+)"/)?.[1] ?? "");
      expect(csrf).not.toBe("");
      const r = await p.request.post(roOrigin + "alerts/ack", { form: { csrf, id: SPIKE, note: "read-only" }, headers: { origin: roOrigin.slice(0, -1) } });
      expect(r.status()).toBe(403);
      expect(await ackRecords()).toEqual([]);
      await c.close();
    } finally {
      ro.kill("SIGTERM");
    }
  });

  it("an ack from the page moves the alert to acknowledged with who and the note, in the ledger and one audited monitor.ack", async () => {
    const p = await newPage();
    await p.goto(origin + "alerts");
    const form = p.locator(`form.ack-form:has(input[name=id][value='${SPIKE}'])`);
    const note = "expected backfill <b>of users</b>";
    await form.getByLabel(/Note for/).fill(note);
    await form.getByRole("button", { name: "Acknowledge" }).click();
    await p.waitForLoadState("load");
    expect(await p.locator("#flash").innerText()).toBe(`${SPIKE}: acknowledged`);
    expect(await p.locator("#open-alerts").innerText()).toBe("Open (1)");
    expect(await p.locator("#acked-alerts").innerText()).toBe("Acknowledged or closed (1)");
    const acked = p.locator(`#acked-alerts + table tr[data-alert='${SPIKE}']`);
    const records = await ackRecords();
    expect(records).toHaveLength(1);
    const principal = records[0]!.principal; // the keystore's principal, as `monitor ack` records it
    expect(principal).not.toBe("");
    expect(await acked.innerText()).toContain(`acknowledged by ${principal}`);
    expect(await acked.innerText()).toContain(note);
    expect(await acked.locator("form").count()).toBe(0); // nothing left to acknowledge
    expect(await p.locator(`#open-alerts + table tr[data-alert='${ODD_HOURS}'] form.ack-form`).count()).toBe(1);

    const ledger = await withKeystore((ks) => listAlerts(ks).find((s) => s.alert.id === SPIKE)!.ack);
    expect(ledger).toMatchObject({ note, by: principal });
    expect(records[0]).toMatchObject({ objectPath: SPIKE, context: { note, detection: "volume-spike" } });
    expect(await withKeystore((ks) => ks.verifyAudit().ok)).toBe(true);
    expect(problems).toEqual([]);
    await p.close();
  });
});
