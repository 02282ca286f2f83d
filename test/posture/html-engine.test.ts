/**
 * The HTML page of a report the real engine produced: the planted-defects pipeline (folders,
 * keystore, notebooks, logs) plus a loopback TLS endpoint that does not require the client
 * certificate the map asks for, checked by checkPosture, rendered, and opened in headless Chromium.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, describe, expect, it } from "vitest";
import { checkPosture, keystoreSource, loadMap, type PostureReport } from "../../src/posture/index.js";
import { renderHtml } from "../../src/posture/report/html.js";
import { buildPipeline, withEndpoints } from "./pipeline.js";

const closers: (() => void)[] = [];
afterAll(() => closers.forEach((c) => c()));

async function engineReport(): Promise<{ report: PostureReport; root: string }> {
  const p = await buildPipeline(true);
  const tls = await withEndpoints(p, await loadMap(p.mapFile), true);
  closers.push(tls.close);
  const report = await checkPosture(tls.map, { keys: keystoreSource(p.ks, p.home), mapPath: p.mapFile });
  return { report, root: p.root };
}

describe("renderHtml on a report from the engine", () => {
  it("every finding is on the page, failing stages and the failing connection are marked, findings expand to their fix, no console errors", async () => {
    const { report, root } = await engineReport();
    expect(report.findings.map((f) => f.checkId)).toContain("TRANSIT-MTLS");
    const file = path.join(root, "report.html");
    writeFileSync(file, renderHtml(report));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(pathToFileURL(file).href);
      expect(await page.locator("svg#diagram .stage").count()).toBe(8);
      for (const s of report.stages) expect(await page.locator(`svg#diagram .stage[data-stage="${s.id}"]`).getAttribute("data-status")).toBe(s.status);
      expect(await page.locator('svg#diagram .conn[data-connection="ingest"]').getAttribute("data-status")).toBe("fail");
      expect(await page.locator('svg#diagram .conn[data-connection="features-to-training"]').getAttribute("data-status")).toBe("pass");
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
