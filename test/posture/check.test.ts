import { readFileSync, utimesSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkPosture, findingsAtOrAbove, keystoreSource, loadMap, type PostureReport } from "../../src/posture/index.js";
import { buildPipeline, PLANTED, PLANTED_TRANSIT, withEndpoints } from "./pipeline.js";

/** The pipeline's folders and keystore, plus real TLS endpoints for its connections when `endpoints`. */
async function run(defects: boolean, endpoints = false): Promise<{ report: PostureReport; root: string }> {
  const p = await buildPipeline(defects);
  const loaded = await loadMap(p.mapFile);
  const tls = endpoints ? await withEndpoints(p, loaded, defects) : null;
  try {
    const report = await checkPosture(tls?.map ?? loaded, { keys: keystoreSource(p.ks, p.home), mapPath: p.mapFile });
    return { report, root: p.root };
  } finally {
    tls?.close();
  }
}

describe("posture check on a real pipeline", () => {
  it("the clean pipeline passes clean: no finding at or above low", async () => {
    const { report } = await run(false, true);
    expect(findingsAtOrAbove(report, "low").map((f) => `${f.checkId} ${f.message}`)).toEqual([]);
    expect(report.stages.every((s) => s.status === "pass")).toBe(true);
    expect(report.connections.map((c) => [c.id, c.status])).toEqual([
      ["features-to-training", "pass"],
      ["ingest", "pass"],
    ]);
    expect(report.stats.filesExamined).toBeGreaterThanOrEqual(5);
    const landing = report.answers.keys.find((k) => k.store === "landing-raw")!;
    expect(landing).toMatchObject({
      expectedKey: "datasets/raw",
      sealedFiles: 2,
      plaintextFiles: 0,
      keysSeen: [{ key: "datasets/raw", version: 1, files: 2 }],
    });
    expect(report.answers.access.find((a) => a.key === "datasets/raw")).toMatchObject({ auditVerified: true, source: "keystore" });
  });

  it("finds every planted defect exactly once, with the right check id, and nothing else", async () => {
    const { report } = await run(true, true);
    const counted = new Map<string, number>();
    for (const f of findingsAtOrAbove(report, "low")) counted.set(f.checkId, (counted.get(f.checkId) ?? 0) + 1);
    const expected = new Map<string, number>([...Object.values(PLANTED), ...Object.values(PLANTED_TRANSIT)].map((id) => [id, 1]));
    expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(expected));
    const byId = (id: string) => report.findings.find((f) => f.checkId === id)!;
    expect(byId("TRANSIT-MTLS")).toMatchObject({ stage: "landing", subject: "ingest", evidence: expect.objectContaining({ clientCertRequired: false }) });
    expect(report.connections.map((c) => [c.id, c.status])).toEqual([
      ["features-to-training", "pass"],
      ["ingest", "fail"],
    ]);
    expect(byId("REST-PLAINTEXT")).toMatchObject({ stage: "landing", subject: "landing-raw", location: "data/landing/export.csv", severity: "critical" });
    expect(byId("KEYS-ROTATION-DUE")).toMatchObject({ subject: "models/churn", stage: null });
    expect(byId("LEAK-SECRET")).toMatchObject({ stage: "training", subject: "notebooks", location: "notebooks/train.ipynb" });
    expect(byId("RETENTION-EXPIRED")).toMatchObject({ subject: "inference-logs", location: "logs/inference/payload-00000000.jsonl.pseal" });
    expect(byId("REST-DESTROYED-VERSION")).toMatchObject({
      subject: "archive",
      location: "data/archive/2023.csv.pseal",
      evidence: expect.objectContaining({ version: 1 }),
    });
    expect(byId("PLAINTEXT-DECRYPTED-OUTPUT")).toMatchObject({
      location: "data/landing/customers-2024.csv",
      severity: "high",
      evidence: expect.objectContaining({ decryptedBy: "tester" }),
    });
    // worst first; stage status follows the worst finding
    const ranks = report.findings.map((f) => ["critical", "high", "medium", "low", "info"].indexOf(f.severity));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(report.stages.find((s) => s.id === "landing")!.status).toBe("fail");
    expect(report.stages.find((s) => s.id === "monitoring")!.status).toBe("warn");
    expect(report.stages.find((s) => s.id === "ingestion")!.status).toBe("pass");
    expect(report.answers.plaintext.map((p) => p.kind).sort()).toEqual(["decrypted-output", "leak", "plaintext-file"]);
    expect(report.answers.retention.find((r) => r.store === "inference-logs")).toMatchObject({ expiredFiles: 1, retentionSeconds: 7 * 86400 });
    expect(report.answers.access.find((a) => a.key === "datasets/raw")).toMatchObject({
      decrypts: 1,
      decryptsByPrincipal: { tester: 1 },
      principals: ["tester"],
    });
  });

  it("never puts the secret or plaintext in the report", async () => {
    const { report, root } = await run(true);
    const json = JSON.stringify(report);
    expect(json).not.toContain("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    expect(json).not.toContain("7,c");
    expect(readFileSync(path.join(root, "data/landing/export.csv"), "utf8")).toContain("7,c"); // the plant was there
  });

  it("a fresh decrypted output is listed as info, not failed; stale after plaintextMaxAge", async () => {
    const p = await buildPipeline(true);
    const out = path.join(p.root, "data/landing/customers-2024.csv");
    const now = Date.now() / 1000;
    utimesSync(out, now, now);
    const report = await checkPosture(await loadMap(p.mapFile), { keys: keystoreSource(p.ks, p.home) });
    expect(report.findings.find((f) => f.checkId === "PLAINTEXT-DECRYPTED-OUTPUT")!.severity).toBe("info");
  });
});

describe("posture access answers from a key service's audit", () => {
  it("counts the service's denials (authz.<plaintext op>, denied) and releases once: one record per allowed operation", async () => {
    const p = await buildPipeline(false);
    const loaded = await loadMap(p.mapFile);
    const base = keystoreSource(p.ks, p.home);
    const now = new Date().toISOString();
    const rec = (seq: number, operation: string, outcome: "ok" | "denied", principal: string) =>
      ({
        seq,
        time: now,
        principal,
        operation,
        keyName: "datasets/raw",
        keyVersion: 1,
        objectPath: null,
        headerHash: null,
        context: null,
        outcome,
        errorCode: outcome === "denied" ? "ACCESS_DENIED" : null,
        mac: "00",
      }) as const;
    const service = [
      rec(100_001, "decrypt", "ok", "spiffe://acme/prod/trainer"), // an allowed decrypt: its own record, with its rule
      rec(100_002, "authz.unwrap", "denied", "spiffe://acme/prod/key-admin"),
      rec(100_003, "authz.decrypt", "denied", "spiffe://acme/prod/key-admin"),
      rec(100_004, "authz.key.rotate", "denied", "spiffe://acme/prod/trainer"), // not a plaintext operation
    ];
    const source = { ...base, listAudit: async (sinceMs?: number) => [...(await base.listAudit(sinceMs)), ...service] };
    const report = await checkPosture(loaded, { keys: source, mapPath: p.mapFile });
    const before = (await checkPosture(loaded, { keys: base, mapPath: p.mapFile })).answers.access.find((a) => a.key === "datasets/raw")!;
    const access = report.answers.access.find((a) => a.key === "datasets/raw")!;
    expect(access.decrypts - before.decrypts).toBe(1);
    expect(access.denied - before.denied).toBe(2);
    expect(access.decryptsByPrincipal["spiffe://acme/prod/trainer"]).toBe(1);
  });
});
