/**
 * The HTML posture report: unit tests on the string, then the page in a real headless Chromium
 * (Debian's /usr/bin/chromium driven by playwright-core), loaded from a file:// URL.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, type Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { transitDefinitions } from "../../src/posture/checks/transit.js";
import { fingerprintOf } from "../../src/posture/finding.js";
import { renderHtml } from "../../src/posture/report/html.js";
import type { CheckDefinition, Finding, PostureReport, Severity, StageId } from "../../src/posture/types.js";
import { STAGES } from "../../src/posture/types.js";
import { tempDir } from "../helpers/keystore.js";

const XSS_LOCATION = "<script>alert(1)</script>";
const dir = tempDir("pipeseal-html-");

const otherChecks: CheckDefinition[] = [
  {
    id: "REST-PLAINTEXT",
    title: "Plaintext file in a store the map says is encrypted",
    severity: "critical",
    question: "plaintext",
    description: "Every file under the store is read for the sealed-file magic and header.",
    fix: "Seal the file with the store's key (pipeseal seal --key <key>) and delete the plaintext copy.",
  },
  {
    id: "KEYS-ROTATION",
    title: "Key past its rotation period",
    severity: "medium",
    question: "keys",
    description: "The primary version's age is compared with the key's rotation period.",
    fix: "Rotate the key: pipeseal key rotate <key>.",
  },
  {
    id: "ACCESS-WIDE",
    title: "Too many principals can decrypt",
    severity: "low",
    question: "access",
    description: "Counts principals with decrypt rights.",
    fix: "Narrow the policy rule to the workloads that need it.",
  },
  {
    id: "RETENTION-EXPIRED",
    title: "Data older than the store's retention",
    severity: "low",
    question: "retention",
    description: "File ages against the map's retention.",
    fix: "Delete or archive the expired files (pipeseal posture prune --dry-run first).",
  },
  { id: "AUDIT-INFO", title: "Audit period summary", severity: "info", question: "access", description: "Decrypts per principal.", fix: "Nothing to fix." },
];
const checks = [...transitDefinitions, ...otherChecks];

function finding(
  checkId: string,
  severity: Severity,
  stage: StageId | null,
  subject: string,
  location: string,
  message: string,
  evidence: Finding["evidence"] = {},
): Finding {
  const fingerprint = fingerprintOf(checkId, subject, location);
  return { checkId, severity, stage, subject, location, message, evidence, fingerprint };
}

const findings: Finding[] = [
  finding("REST-PLAINTEXT", "critical", "landing", "landing-raw", "landing/raw/customers.csv", "plaintext CSV with PII in a store that must be sealed", {
    classification: "pii",
    bytes: 18_204,
    sha256: "9f2c…",
  }),
  finding("REST-PLAINTEXT", "critical", "landing", "landing-raw", XSS_LOCATION, 'a file named <img src=x onerror="window.__xss=2"> holds plaintext', {
    "<b>key</b>": "<script>window.__xss=3</script>",
  }),
  finding(
    "TRANSIT-MTLS",
    "high",
    "features",
    "processing-to-features",
    "https://127.0.0.1:8443/v1/features",
    "the map says mTLS, but the server completed a handshake without a client certificate",
    { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", clientCertRequired: false },
  ),
  finding("TRANSIT-CERT", "high", "inference", "registry-to-inference", "https://models.internal:9443", "the server certificate expired 5 day(s) ago", {
    daysLeft: -5,
    trusted: false,
    notAfter: "2026-01-02T00:00:00.000Z",
  }),
  finding("KEYS-ROTATION", "medium", null, "prod/datasets/raw", "prod/datasets/raw", "primary version 3 is 412 days old; rotation is due every 90 days", {
    version: 3,
    ageDays: 412,
    rotationDays: 90,
  }),
  finding(
    "TRANSIT-CIPHER",
    "medium",
    "training",
    "features-to-training",
    "https://trainer.internal:8443",
    "the default handshake chose AES128-GCM-SHA256, without forward secrecy",
    { cipher: "AES128-GCM-SHA256" },
  ),
  finding("ACCESS-WIDE", "low", null, "prod/models", "prod/models", "9 principals can decrypt prod/models", { principals: 9 }),
  finding(
    "RETENTION-EXPIRED",
    "low",
    "monitoring",
    "monitoring-logs",
    "logs/inference/2024-11.log.sealed",
    "log segment is 410 days old; retention is 365 days",
    { ageDays: 410, retentionDays: 365 },
  ),
  finding("AUDIT-INFO", "info", null, "prod/datasets/raw", "audit", "1,204 decrypts by 3 principals in the period", { decrypts: 1204 }),
];

const report: PostureReport = {
  tool: { name: "pipeseal", version: "0.1.0" },
  map: { name: "acme <fraud> model", path: "/srv/ml/pipeline.yaml" },
  generatedAt: "2026-03-01T09:30:00.000Z",
  durationMs: 4821,
  stages: [
    { id: "ingestion", status: "pass", stores: 1, findings: 0 },
    { id: "landing", status: "fail", stores: 2, findings: 2 },
    { id: "processing", status: "pass", stores: 1, findings: 0 },
    { id: "features", status: "fail", stores: 1, findings: 1 },
    { id: "training", status: "warn", stores: 1, findings: 1 },
    { id: "registry", status: "pass", stores: 1, findings: 0 },
    { id: "inference", status: "fail", stores: 0, findings: 1 },
    { id: "monitoring", status: "warn", stores: 1, findings: 1 },
  ],
  connections: [
    { id: "ingest-to-landing", from: "ingestion", to: "landing", url: "https://landing.internal:8443", status: "pass" },
    { id: "processing-to-features", from: "processing", to: "features", url: "https://127.0.0.1:8443/v1/features", status: "fail" },
    { id: "features-to-training", from: "features", to: "training", url: "https://trainer.internal:8443", status: "warn" },
    { id: "registry-to-inference", from: "registry", to: "inference", url: "https://models.internal:9443", status: "fail" },
    { id: "monitoring-to-landing", from: "monitoring", to: "landing", url: "https://landing.internal:8443/feedback", status: "pass" },
  ],
  findings,
  checks: checks.map((c) => ({ ...c, failed: findings.filter((f) => f.checkId === c.id).length })),
  answers: {
    keys: [
      {
        store: "landing-raw",
        stage: "landing",
        expectedKey: "prod/datasets/raw",
        keysSeen: [
          { key: "prod/datasets/raw", version: 3, files: 1180 },
          { key: "prod/datasets/raw", version: 2, files: 40 },
        ],
        plaintextFiles: 2,
        sealedFiles: 1220,
      },
      {
        store: "feature-store",
        stage: "features",
        expectedKey: "prod/features",
        keysSeen: [{ key: "prod/features", version: 1, files: 300 }],
        plaintextFiles: 0,
        sealedFiles: 300,
      },
      { store: "public-docs", stage: "ingestion", expectedKey: null, keysSeen: [], plaintextFiles: 12, sealedFiles: 0 },
    ],
    access: [
      {
        key: "prod/datasets/raw",
        principals: ["spiffe://acme/prod/trainer", "spiffe://acme/prod/etl"],
        source: "policy",
        decrypts: 1204,
        denied: 3,
        decryptsByPrincipal: { "spiffe://acme/prod/trainer": 1200, "spiffe://acme/prod/etl": 4 },
        auditVerified: true,
      },
      {
        key: "prod/models",
        principals: ["spiffe://acme/prod/serving"],
        source: "keystore",
        decrypts: 88,
        denied: 0,
        decryptsByPrincipal: { "spiffe://acme/prod/serving": 88 },
        auditVerified: null,
      },
    ],
    plaintext: [
      { stage: "landing", location: "landing/raw/customers.csv", kind: "plaintext-file", ageSeconds: 3 * 86_400 },
      { stage: "landing", location: XSS_LOCATION, kind: "plaintext-file", ageSeconds: 7200 },
      { stage: "training", location: "work/train.parquet.dec", kind: "decrypted-output", ageSeconds: 50 * 3600 },
    ],
    retention: [
      { store: "monitoring-logs", stage: "monitoring", retentionSeconds: 365 * 86_400, oldestSeconds: 410 * 86_400, expiredFiles: 1 },
      { store: "landing-raw", stage: "landing", retentionSeconds: null, oldestSeconds: 30 * 86_400, expiredFiles: 0 },
    ],
  },
  stats: { filesExamined: 1532, bytesRead: 1_961_216 },
  baseline: { path: "prev.json", added: [findings[2]!.fingerprint], fixed: ["a".repeat(64)] },
};

const html = renderHtml(report);
/** A reference escape for the assertions (the renderer's own is not used to check itself). */
const asHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
const has = (text: string) => expect(html.includes(text), `page should contain ${text}`).toBe(true);

describe("renderHtml: the string", () => {
  it("escapes every value from the report: no injected tag or attribute survives", () => {
    expect(html).not.toContain(XSS_LOCATION);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toContain("<b>key</b>");
    expect(html).toContain("acme &lt;fraud&gt; model");
    expect(html.match(/<script/g)).toHaveLength(1); // the page's own script only
  });

  it("holds every finding (by anchor, with its check id and message) and the fix of each finding's check", () => {
    for (const f of findings) {
      has(`id="f-${f.fingerprint.slice(0, 16)}" data-check="${f.checkId}"`);
      has(asHtml(f.message));
      has(asHtml(f.location));
      has(asHtml(checks.find((c) => c.id === f.checkId)!.fix));
    }
  });

  it("answers the four questions, in plain words, linking to findings", () => {
    for (const q of ["keys", "access", "plaintext", "retention"]) expect(html).toContain(`id="q-${q}"`);
    expect(html).toContain("not fully protected: plaintext files are present");
    expect(html).toContain("<strong>feature-store</strong> (Features &amp; embeddings): protected as the map says");
    expect(html).toContain("the map declares it unencrypted");
    expect(html).toContain("1204 decrypts (<code>spiffe://acme/prod/trainer</code> 1200, <code>spiffe://acme/prod/etl</code> 4) and 3 denied attempts");
    expect(html).toContain("decrypted output left on disk, for 2 days");
    expect(html).toContain("plaintext file, for 2 h");
    expect(html).toContain("1 finding bears on this question");
    expect(html).toContain("kept for 365 days; oldest data 410 days old; 1 file past retention");
    expect(html).toContain(`href="#f-${findings[0]!.fingerprint.slice(0, 16)}"`);
  });

  it("has a strict CSP: hashes for its one style and one script, no 'unsafe-inline', nothing external", () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!.replace(/&#39;/g, "'");
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain("unsafe");
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(csp).toContain(`'sha256-${createHash("sha256").update(script).digest("base64")}'`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//); // no external resource or link
  });

  it("renders an empty report without throwing", () => {
    const empty: PostureReport = {
      ...report,
      stages: [],
      connections: [],
      findings: [],
      checks: [],
      answers: { keys: [], access: [], plaintext: [], retention: [] },
    };
    const { baseline: _, ...noBaseline } = empty;
    const page = renderHtml(noBaseline);
    expect(page).toContain("No plaintext was found");
    expect(page).not.toContain('id="baseline"');
  });
});

describe("renderHtml in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the page from a file:// URL and records console errors, page errors, dialogs, requests and CSP violations. */
  async function open(page: PostureReport, name: string): Promise<{ p: Page; problems: string[]; requests: string[] }> {
    const file = path.join(dir, name);
    writeFileSync(file, renderHtml(page));
    const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    p.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    p.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    p.on("request", (r) => requests.push(r.url()));
    // init scripts run before the page's own and are not subject to its CSP
    await p.addInitScript(() => {
      (window as unknown as { __csp: string[] }).__csp = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    await p.goto(pathToFileURL(file).href);
    await p.waitForLoadState("load");
    return { p, problems, requests };
  }

  it("renders without console errors or CSP violations; the diagram shows eight stages, failing ones marked; findings expand to their fix; injected markup stays text", async () => {
    const { p, problems, requests } = await open(report, "report.html");
    try {
      const svg = p.locator("svg#diagram");
      await expect(svg.isVisible()).resolves.toBe(true);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(600);
      const stages = p.locator("svg#diagram .stage");
      expect(await stages.count()).toBe(8);
      expect(await stages.evaluateAll((els) => els.map((e) => e.getAttribute("data-stage")))).toEqual([...STAGES]);
      const landing = p.locator('svg#diagram .stage[data-stage="landing"]');
      expect(await landing.getAttribute("data-status")).toBe("fail");
      expect(await landing.textContent()).toContain("FAIL");
      // coloured, not only labelled: the failing box's outline differs from a passing one
      const stroke = (id: string) => p.locator(`svg#diagram .stage[data-stage="${id}"] rect`).evaluate((r) => getComputedStyle(r).stroke);
      expect(await stroke("landing")).not.toBe(await stroke("ingestion"));
      expect(await p.locator("svg#diagram .conn").count()).toBe(5);
      expect(await p.locator('svg#diagram .conn[data-status="fail"] path').first().isVisible()).toBe(true);

      // a finding expands on click and shows its check's fix
      const mtls = p.locator(`#f-${findings[2]!.fingerprint.slice(0, 16)}`);
      expect(await mtls.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
      await mtls.locator("summary").click();
      expect(await mtls.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
      const fix = mtls.locator(".fix");
      expect(await fix.isVisible()).toBe(true);
      expect(await fix.textContent()).toContain(transitDefinitions.find((d) => d.id === "TRANSIT-MTLS")!.fix);

      // an answer's evidence link opens the (closed) finding it points to: the page's script runs under its CSP
      const target = `f-${findings[7]!.fingerprint.slice(0, 16)}`;
      await p.locator(`#q-retention a[href="#${target}"]`).first().click();
      await p.waitForFunction((id) => (document.getElementById(id) as HTMLDetailsElement).open, target);

      // the injected location is shown as text and never ran
      const xss = p.locator(`#f-${findings[1]!.fingerprint.slice(0, 16)}`);
      await xss.locator("summary").click();
      expect(await xss.locator("code.location").textContent()).toBe(XSS_LOCATION);
      expect(await p.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(await p.evaluate(() => document.scripts.length)).toBe(1);
      expect(await p.locator("img").count()).toBe(0);

      await p.screenshot({ path: "/tmp/pipeseal-posture-report.png", fullPage: true });
      await svg.screenshot({ path: "/tmp/pipeseal-posture-diagram.png" });
      expect(await p.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
      expect(problems).toEqual([]);
      expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it("the CSP is really enforced: a script added to the page at run time is refused and reported", async () => {
    const { p } = await open(report, "csp.html");
    try {
      await p.evaluate(() => {
        const s = document.createElement("script");
        s.textContent = "window.__ran = true";
        document.body.appendChild(s);
      });
      expect(await p.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).toBeUndefined();
      await p.waitForFunction(() => (window as unknown as { __csp: string[] }).__csp.length > 0);
      expect((await p.evaluate(() => (window as unknown as { __csp: string[] }).__csp))[0]).toMatch(/^script-src/);
    } finally {
      await p.close();
    }
  });
});
