/**
 * A filled keystore for the dashboard's tests: keys with rotations, real wraps and unwraps,
 * thousands of audit records from several principals over 30 days, records carrying markup
 * in their object path, principal and context, an internal CA with issued and revoked
 * certificates, an alerts file and two posture reports.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { initKeystore, openKeystore } from "../../src/keys/index.js";
import { initCa, issueCertificate, revokeCertificate } from "../../src/pki/ca/index.js";
import { ALERT_SCHEMA } from "../../src/monitor/types.js";
import type { PostureReport } from "../../src/posture/types.js";

export const XSS_OBJECT = "<script>window.__xss=1</script>.pseal";
export const XSS_PRINCIPAL = "<img src=x onerror=window.__xss=2>";
export const XSS_CONTEXT_VALUE = "<script>window.__xss=3</script>";
export const PRINCIPALS = ["spiffe://acme/prod/trainer", "spiffe://acme/prod/etl", "spiffe://acme/dev/notebook"];
const DAY = 86_400_000;

export interface Filled {
  home: string;
  alertsFile: string;
  postureDir: string;
  /** seqs per principal of the bulk unwrap records. */
  seqsByPrincipal: Map<string, number[]>;
  /** seqs of every record with outcome "denied". */
  deniedSeqs: number[];
  /** Every bulk record: seq, principal, key. */
  bulk: { seq: number; principal: string; key: string }[];
}

export async function fillKeystore(dir: string, bulk = 3000, now = Date.now()): Promise<Filled> {
  const home = path.join(dir, "ks");
  await initKeystore(home);
  const ks = await openKeystore(home, { principal: "tester" });
  const seqsByPrincipal = new Map<string, number[]>(PRINCIPALS.map((p) => [p, []]));
  const deniedSeqs: number[] = [];
  const bulkRecords: { seq: number; principal: string; key: string }[] = [];
  try {
    ks.createKey("datasets/pii", { rotateEverySeconds: 90 * 86400 });
    ks.createKey("models/prod", { rotateEverySeconds: 1 }); // due at once
    ks.createKey("logs/inference");
    // real data-key traffic under each version of datasets/pii, rotating twice
    for (let v = 1; v <= 3; v++) {
      const entry = await ks.wrap("datasets/pii", randomBytes(32), { dataset: "users" });
      for (let i = 0; i < 3; i++) (await ks.unwrap(entry, { dataset: "users" }, { operation: "decrypt", path: `users-v${v}-${i}.pseal` })).fill(0);
      if (v < 3) ks.rotateKey("datasets/pii");
    }
    // bulk records over 30 days, old versions draining
    ks.transaction(() => {
      for (let i = 0; i < bulk; i++) {
        const principal = PRINCIPALS[i % PRINCIPALS.length]!;
        const t = now - 30 * DAY + Math.floor((i / bulk) * 30 * DAY);
        const version = i < bulk / 3 ? 1 : i < (2 * bulk) / 3 ? (i % 4 === 0 ? 1 : 2) : i % 5 === 0 ? 2 : 3;
        const denied = i % 97 === 0;
        const r = ks.appendAuditEvent({
          operation: "unwrap",
          principal,
          outcome: denied ? "denied" : "ok",
          ...(denied ? { errorCode: "ACCESS_DENIED" } : {}),
          keyName: i % 7 === 0 ? "models/prod" : "datasets/pii",
          keyVersion: i % 7 === 0 ? 1 : version,
          objectPath: `s3://lake/shard-${String(i % 400).padStart(5, "0")}.pseal`,
          context: { dataset: i % 2 ? "users" : "events", stage: "train" },
          timeMs: t,
        });
        seqsByPrincipal.get(principal)!.push(r.seq);
        bulkRecords.push({ seq: r.seq, principal, key: r.keyName! });
        if (denied) deniedSeqs.push(r.seq);
      }
    });
    // markup in user-controlled fields
    ks.appendAuditEvent({
      operation: "decrypt",
      principal: XSS_PRINCIPAL,
      outcome: "ok",
      keyName: "logs/inference",
      keyVersion: 1,
      objectPath: XSS_OBJECT,
      context: { "<b>k</b>": XSS_CONTEXT_VALUE },
    });
    await initCa(ks, { trustDomain: "acme.internal" });
    await issueCertificate(ks, { service: "trainer", env: "prod", client: true, ttlSeconds: 3600 });
    await issueCertificate(ks, { service: "api", env: "prod", dns: ["api.acme.internal"], ttlSeconds: 3 * 86400 });
    const c = await issueCertificate(ks, { service: "etl", env: "prod", client: true });
    revokeCertificate(ks, c.serial, { reason: "keyCompromise" });
  } finally {
    ks.close();
  }
  const alertsFile = path.join(dir, "alerts.jsonl");
  const alert = (id: string, state: "open" | "closed", summary: string, principal: string) => ({
    schema: ALERT_SCHEMA,
    id,
    detection: "volume-spike",
    severity: "high",
    principal,
    key: "datasets/pii",
    time: new Date(now - DAY).toISOString(),
    lastTime: new Date(now - DAY / 2).toISOString(),
    state,
    seqs: [5, 6, 7],
    seqsOmitted: 0,
    summary,
    evidence: { observed: 900, baseline: 40 },
  });
  writeFileSync(
    alertsFile,
    [
      alert("a1", "open", "<script>window.__xss=4</script> read 900 objects in 1 h against 40 normally", PRINCIPALS[2]!),
      alert("a2", "closed", "off-hours reads", PRINCIPALS[0]!),
    ]
      .map((x) => JSON.stringify(x))
      .join("\n") + "\n",
  );
  const postureDir = path.join(dir, "posture");
  mkdirSync(postureDir);
  writeFileSync(path.join(postureDir, "2026-01.json"), JSON.stringify(report("2026-01-01T00:00:00.000Z", "fail")));
  writeFileSync(path.join(postureDir, "2026-02.json"), JSON.stringify(report(new Date(now - DAY).toISOString(), "pass")));
  return { home, alertsFile, postureDir, seqsByPrincipal, deniedSeqs, bulk: bulkRecords };
}

function report(generatedAt: string, status: "pass" | "fail"): PostureReport {
  return {
    tool: { name: "pipeseal", version: "0.1.0" },
    map: { name: "acme <fraud> model", path: "/srv/ml/pipeline.yaml" },
    generatedAt,
    durationMs: 1200,
    stages: [
      { id: "ingestion", status: "pass", stores: 1, findings: 0 },
      { id: "landing", status, stores: 1, findings: status === "fail" ? 1 : 0 },
    ],
    connections: [{ id: "ingestion-to-landing", from: "ingestion", to: "landing", url: "https://landing.internal", status: "pass" }],
    findings:
      status === "fail"
        ? [
            {
              checkId: "REST-PLAINTEXT",
              severity: "critical",
              stage: "landing",
              subject: "landing",
              location: "landing/raw.csv",
              message: "plaintext <b>CSV</b>",
              evidence: {},
              fingerprint: "0123456789abcdef0123456789abcdef",
            },
          ]
        : [],
    checks: [],
    answers: { keys: [], access: [], plaintext: [], retention: [] },
    stats: { filesExamined: 10, bytesRead: 1000 },
  };
}
