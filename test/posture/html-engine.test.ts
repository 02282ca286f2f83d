/**
 * The HTML page of a report the real engine produced: the planted-defects pipeline (folders,
 * keystore, notebooks, logs) plus a loopback TLS endpoint that does not require the client
 * certificate the map asks for, checked by checkPosture, rendered, and opened in headless Chromium.
 */
import { writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { initCa, issueCertificate } from "../../src/pki/ca/index.js";
import { checkPosture, keystoreSource, loadMap, type PostureReport } from "../../src/posture/index.js";
import { renderHtml } from "../../src/posture/report/html.js";
import { buildPipeline } from "./pipeline.js";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

async function engineReport(): Promise<{ report: PostureReport; root: string }> {
  const p = await buildPipeline(true);
  await initCa(p.ks, { trustDomain: "acme.internal" });
  const cert = await issueCertificate(p.ks, { service: "features", env: "prod", ip: ["127.0.0.1"], server: true });
  writeFileSync(path.join(p.root, "ca.pem"), cert.caPem);
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem! }, (_q, res) => res.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => (server.closeAllConnections(), server.close()));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const map = await loadMap(p.mapFile);
  const withConnection = { ...map, connections: [{ id: "processing-to-training", from: "processing", to: "training", url, mtls: true, classification: "pii", ca: "ca.pem" } as const] };
  const report = await checkPosture(withConnection, { keys: keystoreSource(p.ks, p.home), mapPath: p.mapFile });
  return { report, root: p.root };
}

describe("renderHtml on a report from the engine", () => {
  it("every finding is on the page, failing stages and the failing connection are marked, findings expand to their fix, no console errors", async () => {
    const { report, root } = await engineReport();
    expect(report.findings.map((f) => f.checkId)).toContain("TRANSIT-MTLS");
    const file = path.join(root, "report.html");
    writeFileSync(file, renderHtml(report));
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.text()); });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator("svg#diagram .stage").count()).toBe(8);
      for (const s of report.stages) expect(await page.locator(`svg#diagram .stage[data-stage="${s.id}"]`).getAttribute("data-status")).toBe(s.status);
      expect(await page.locator('svg#diagram .conn[data-connection="processing-to-training"]').getAttribute("data-status")).toBe("fail");
      expect(await page.locator("details.finding").count()).toBe(report.findings.length);
      for (const f of report.findings) expect(await page.locator(`details.finding[data-check="${f.checkId}"]`).count()).toBeGreaterThan(0);
      const mtls = page.locator('details.finding[data-check="TRANSIT-MTLS"]');
      await mtls.locator("summary").click();
      expect(await mtls.locator(".fix").textContent()).toContain(report.checks.find((c) => c.id === "TRANSIT-MTLS")!.fix);
      await page.screenshot({ path: "/tmp/pipeseal-posture-engine-report.png", fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
