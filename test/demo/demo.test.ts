/**
 * `npm run demo` end to end, asserting its evidence rather than its text: the built demo runs in
 * a fresh folder, then the test opens what it left with the library — headers of every sealed
 * file, every byte of every file (SQLite WAL/SHM, logs) searched for the planted markers and the
 * tracking token, checkpoints verified, the honeytoken alert in the ledger, posture's JSON, and
 * the servers' ports and child processes gone.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FolderRegistry, checkpointName, loadCheckpoint, trustFromKeys } from "../../src/artifacts/index.js";
import { inspectFile } from "../../src/envelope/inspect.js";
import { openKeystore } from "../../src/keys/index.js";
import type { LocalKeystore } from "../../src/keys/keystore.js";
import { listAlerts } from "../../src/monitor/store/alerts.js";
import { SecretStore } from "../../src/secrets/index.js";
import { runAsync } from "../helpers/run-async.js";
import { filesUnder, filesWithPlantedValues, processesNaming, refused } from "./evidence.js";

const DEMO = fileURLToPath(new URL("../../dist/demo/main.js", import.meta.url));
const ROGUE = "spiffe://demo.pipeseal/prod/trainer-rogue";

interface DemoResult {
  ok: boolean;
  error?: string;
  servers: string[];
  steps: { name: string; ms: number }[];
  facts: Record<string, unknown>;
}

/** The key each sealed file must be under, by where it lies (the demo's pipeline.yaml says the same). */
function expectedKey(rel: string): string | null {
  const rules: [RegExp, string][] = [
    [/^stores\/landing\/events-\d+\.jsonl\.pseal$/, "prod/landing/events"],
    [/^stores\/features\/[^/]+\.pseal$/, "prod/features/customers"],
    [/^stores\/training\/train\/shard-\d+\.f32\.pseal$/, "prod/datasets/training"],
    [/^stores\/training\/archive\/[^/]+\.pseal$/, "prod/datasets/archive"],
    [/^stores\/checkpoints\/.+\.pseal$/, "prod/checkpoints/churn"],
    [/^stores\/registry\/.+\.pseal$/, "prod/models/churn"],
    [/^logs\/(training|inference)\/(payload|metadata)-\d+\.jsonl\.pseal$/, ""],
    [/^monitor\/monitor\.state\.pseal$/, "monitor/state"],
  ];
  for (const [re, key] of rules) {
    if (!re.test(rel)) continue;
    if (key !== "") return key;
    const m = /^logs\/(\w+)\/(\w+)-/.exec(rel)!;
    return `prod/logs/${m[1]}/${m[2]}`;
  }
  return null;
}

describe("npm run demo, end to end", () => {
  let root: string;
  let dir: string;
  let result: DemoResult;
  let status: number | null;
  let ks: LocalKeystore;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "pipeseal-demo-test-"));
    dir = path.join(root, "demo");
    const r = await runAsync(process.execPath, [DEMO, "--dir", dir, "--json"], { timeout: 170_000, env: { ...process.env } });
    status = r.status;
    result = JSON.parse(r.stdout) as DemoResult;
    ks = await openKeystore(path.join(dir, ".pipeseal"), { principal: "demo-test" });
  }, 180_000);

  afterAll(() => {
    ks?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("succeeds, every step timed", () => {
    expect(result.error).toBeUndefined();
    expect(status).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.steps.map((s) => s.name)).toEqual([
      "keys",
      "monitor",
      "ingest",
      "process",
      "features",
      "train",
      "registry",
      "inference",
      "incident",
      "evidence",
    ]);
  });

  it("seals every store file under the key its store expects", async () => {
    const files = filesUnder(dir)
      .map((f) => path.relative(dir, f))
      .filter((f) => /^(stores|logs|monitor)\//.test(f));
    const sealed = files.filter((f) => f.endsWith(".pseal"));
    expect(sealed.length).toBeGreaterThanOrEqual(4 + 2 + 3 + 1 + 4 + 2 + 4 + 1);
    for (const rel of sealed) {
      const want = expectedKey(rel);
      expect(want, `no store rule for ${rel}`).not.toBeNull();
      const info = await inspectFile(path.join(dir, rel));
      expect(
        info.keys.map((k) => k.keyName),
        rel,
      ).toContain(want);
    }
    // what is not sealed is bookkeeping the libraries document: registry manifests and signatures, log indexes, alerts
    const other = files.filter((f) => !f.endsWith(".pseal"));
    for (const rel of other)
      expect(rel).toMatch(
        /^(stores\/(registry|checkpoints)\/.*(meta\.json|signature\.json|pulls\.jsonl)|logs\/\w+\/(log\.json|\.lock)|monitor\/(alerts\.jsonl|anchors\/.+|monitor\.state\.pseal\.lock))$/,
      );
    // the landing batches carry their context
    const landing = await inspectFile(path.join(dir, "stores/landing/events-0001.jsonl.pseal"));
    expect(landing.context).toMatchObject({ stage: "landing", source: "producer" });
  });

  it("leaves no plaintext of a marker value or of the secret anywhere under the folder", async () => {
    const all = filesUnder(dir);
    expect(all.some((f) => f.endsWith("keystore.db"))).toBe(true);
    expect(all.some((f) => f.endsWith("corpus.db"))).toBe(true);
    expect(await filesWithPlantedValues(dir, new SecretStore(ks))).toEqual([]);
  });

  it("keeps the last 2 checkpoints, which verify; the pruned one is shredded", async () => {
    const store = new FolderRegistry(path.join(dir, "stores/checkpoints"));
    const trust = trustFromKeys({ [checkpointName("churn")]: [readFileSync(path.join(dir, "trust.pem"), "utf8")] });
    const out = path.join(root, "ckpt");
    for (const step of [2, 3]) {
      const r = await loadCheckpoint(ks, store, "churn", path.join(out, String(step)), { trust, step });
      expect(r).toBeTruthy();
      expect(existsSync(path.join(out, String(step), "model.pt"))).toBe(true);
    }
    await expect(loadCheckpoint(ks, store, "churn", path.join(out, "1"), { trust, step: 1 })).rejects.toMatchObject({ code: "ARTIFACT_NOT_FOUND" });
    const v1 = ks.listKeys().find((k) => k.name === "prod/checkpoints/churn");
    expect(JSON.stringify(v1)).toContain("destroyed");
  });

  it("refuses a tampered checkpoint", async () => {
    const copy = path.join(root, "tampered");
    mkdirSync(copy);
    const src = path.join(dir, "stores/checkpoints");
    for (const f of filesUnder(src)) {
      const to = path.join(copy, path.relative(src, f));
      mkdirSync(path.dirname(to), { recursive: true });
      const bytes = readFileSync(f);
      if (f.endsWith(".pseal")) bytes[bytes.length - 20]! ^= 1;
      writeFileSync(to, bytes);
    }
    const trust = trustFromKeys({ [checkpointName("churn")]: [readFileSync(path.join(dir, "trust.pem"), "utf8")] });
    await expect(loadCheckpoint(ks, new FolderRegistry(copy), "churn", path.join(root, "t-out"), { trust, step: 3 })).rejects.toHaveProperty("code");
  });

  it("audits each stage's key use as that stage's own identity", () => {
    const id = (s: string) => `spiffe://demo.pipeseal/prod/${s}`;
    const who = (op: RegExp, key: string) =>
      new Set(
        ks
          .listAudit({})
          .filter((r) => op.test(r.operation) && r.keyName === key && r.outcome === "ok")
          .map((r) => r.principal),
      );
    expect(who(/^decrypt$/, "prod/landing/events")).toEqual(new Set([id("etl")]));
    expect(who(/^gateway-read$/, "prod/datasets/training")).toEqual(new Set([id("trainer")]));
    expect(who(/^secret/, "secrets/tracking").has(id("trainer"))).toBe(true);
    expect(who(/^decrypt$/, "prod/models/churn").has(id("inference"))).toBe(true);
    expect(ks.verifyAudit()).toMatchObject({ ok: true });
  });

  it("raised the honeytoken alert naming the rogue identity", () => {
    const alerts = listAlerts(ks).map((s) => s.alert);
    const hit = alerts.find((a) => a.detection === "honeytoken");
    expect(hit).toMatchObject({ severity: "critical", principal: ROGUE, key: "prod/datasets/archive" });
    // the audit shows the rogue's read the alert points at
    const read = ks.listAudit({}).find((r) => r.seq === hit!.seqs[0]);
    expect(read).toMatchObject({ principal: ROGUE, keyName: "prod/datasets/archive" });
    const lines = readFileSync(path.join(dir, "monitor/alerts.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; principal: string });
    expect(lines.some((l) => l.id === hit!.id && l.principal === ROGUE)).toBe(true);
  });

  it("passes posture with no finding at medium or above, and wrote the HTML report", () => {
    const report = JSON.parse(readFileSync(path.join(dir, "evidence/posture.json"), "utf8")) as {
      findings: { severity: string; checkId: string }[];
      answers: { keys: { store: string; plaintextFiles: number }[] };
      connections: { status: string }[];
    };
    expect(report.findings.filter((f) => ["critical", "high", "medium"].includes(f.severity))).toEqual([]);
    expect(report.answers.keys.length).toBeGreaterThanOrEqual(8);
    expect(report.answers.keys.every((k) => k.plaintextFiles === 0)).toBe(true);
    expect(report.connections.map((c) => c.status)).toEqual(["pass", "pass", "pass"]);
    expect(readFileSync(path.join(dir, "evidence/posture.html"), "utf8")).toContain("<!DOCTYPE html>");
  });

  it("stopped every server and left no process behind", async () => {
    expect(result.servers.length).toBe(3); // ingestion, gateway, inference (the dashboard only with --ui)
    for (const url of result.servers) expect(await refused(url), url).toBe(true);
    expect(processesNaming(dir)).toEqual([]);
    expect(typeof result.facts.ramFolder).toBe("string");
    expect(existsSync(result.facts.ramFolder as string)).toBe(false); // the tmpfs outputs are gone
  });
});
