/**
 * `npm run demo -- --service`: the data keys live in a key service on 127.0.0.1 (SQLite), and
 * every workload reaches it with its own certificate. The test opens what the run left: the
 * data files are sealed under the service's keyring and keys the local keystore does not hold;
 * the service's audit chain shows each use under the workload's identity and the rule that
 * allowed it (the gateway's reads as delegated unwraps for the trainers), the key admin's
 * refused unwrap, and no plaintext release to the admin; the honeytoken alert points at a
 * record of that chain; no planted value is in any file, the service's database included.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectFile } from "../../src/envelope/inspect.js";
import { openKeystore } from "../../src/keys/index.js";
import type { LocalKeystore } from "../../src/keys/keystore.js";
import { listAlerts } from "../../src/monitor/store/alerts.js";
import { SecretStore } from "../../src/secrets/index.js";
import { runAsync } from "../helpers/run-async.js";
import { filesUnder, filesWithPlantedValues, refused } from "./evidence.js";

const DEMO = fileURLToPath(new URL("../../dist/demo/main.js", import.meta.url));
const id = (s: string) => `spiffe://demo.pipeseal/prod/${s}`;
const SERVICE_KEYS = ["prod/landing/events", "prod/features/customers", "prod/datasets/training", "prod/datasets/archive"];

describe("npm run demo -- --service", () => {
  let root: string;
  let dir: string;
  let status: number | null;
  let result: { ok: boolean; error?: string; servers: string[]; facts: Record<string, unknown> };
  let local: LocalKeystore;
  let service: LocalKeystore;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "pipeseal-demo-svc-"));
    dir = path.join(root, "demo");
    const r = await runAsync(process.execPath, [DEMO, "--dir", dir, "--service", "--json"], { timeout: 170_000, env: { ...process.env } });
    status = r.status;
    result = JSON.parse(r.stdout) as typeof result;
    local = await openKeystore(path.join(dir, ".pipeseal"), { principal: "demo-test" });
    service = await openKeystore(path.join(dir, "keyservice"), { principal: "demo-test" });
  }, 180_000);

  afterAll(() => {
    local?.close();
    service?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("succeeds, and the key service was one of the servers, stopped at the end", async () => {
    expect(result.error).toBeUndefined();
    expect(status).toBe(0);
    expect(result.servers).toContain(result.facts.keyServiceUrl);
    expect(result.servers.length).toBe(4);
    for (const url of result.servers) expect(await refused(url), url).toBe(true);
  });

  it("keeps the data keys in the service only, and seals the data stores under the service's keyring", async () => {
    const inService = new Set(service.listKeys().map((k) => k.name));
    const inLocal = new Set(local.listKeys().map((k) => k.name));
    for (const k of SERVICE_KEYS) {
      expect(inService.has(k), k).toBe(true);
      expect(inLocal.has(k), k).toBe(false);
    }
    const data = filesUnder(path.join(dir, "stores")).filter((f) => /stores\/(landing|features|training)\//.test(f) && f.endsWith(".pseal"));
    expect(data.length).toBeGreaterThanOrEqual(4 + 2 + 3 + 1);
    for (const f of data) {
      const info = await inspectFile(f);
      expect(
        info.keys.map((k) => k.keyring),
        f,
      ).toEqual(["ks:127.0.0.1"]);
      expect(SERVICE_KEYS).toContain(info.keys[0]!.keyName);
    }
  });

  it("records each use in the service's chain under the caller's identity and rule; the key admin never gets plaintext", () => {
    const audit = service.listAudit({});
    const ok = (op: string, key: string) => audit.filter((r) => r.operation === op && r.keyName === key && r.outcome === "ok");
    expect(new Set(ok("datakey.generate", "prod/landing/events").map((r) => r.principal)).has(id("ingest"))).toBe(true);
    expect(new Set(ok("decrypt", "prod/landing/events").map((r) => r.principal))).toEqual(new Set([id("etl")]));
    const reads = ok("gateway-read", "prod/datasets/training");
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of reads)
      expect(JSON.parse(r.context!)).toMatchObject({ "@delegate": id("gateway"), "@delegation": "gateway-for-trainers", "@rule": "trainers-read-datasets" });
    expect(new Set(reads.map((r) => r.principal))).toEqual(new Set([id("trainer")]));
    expect(audit.some((r) => r.operation === "secret.read" && r.principal === id("trainer") && r.outcome === "ok")).toBe(true);
    expect(audit.some((r) => r.operation === "authz.unwrap" && r.principal === id("ops-alice") && r.outcome === "denied")).toBe(true);
    const released = audit.filter(
      (r) =>
        r.principal === id("ops-alice") && r.outcome === "ok" && /^(unwrap|decrypt|gateway-read|secret\.read|datakey\.generate-plaintext)$/.test(r.operation),
    );
    expect(released).toEqual([]);
    expect(service.verifyAudit()).toMatchObject({ ok: true });
    // no use of a data key is in the local chain: only the decoy's registration and the alert name one
    const named = local.listAudit({}).filter((r) => r.keyName !== null && SERVICE_KEYS.includes(r.keyName));
    expect(new Set(named.map((r) => r.operation))).toEqual(new Set(["honeytoken.plant", "monitor.alert"]));
  });

  it("raised the honeytoken alert from the service's audit, pointing at the rogue's delegated read", () => {
    const hit = listAlerts(local)
      .map((s) => s.alert)
      .find((a) => a.detection === "honeytoken");
    expect(hit).toMatchObject({ severity: "critical", principal: id("trainer-rogue"), key: "prod/datasets/archive" });
    const read = service.listAudit({}).find((r) => r.seq === hit!.seqs[0]);
    expect(read).toMatchObject({ principal: id("trainer-rogue"), keyName: "prod/datasets/archive", operation: "gateway-read" });
  });

  it("leaves no planted value or the secret in any file, the service's database included", async () => {
    expect(filesUnder(dir).some((f) => f.endsWith(path.join("keyservice", "keystore.db")))).toBe(true);
    expect(await filesWithPlantedValues(dir, new SecretStore(service))).toEqual([]);
  });

  it("passes posture over both key stores with no finding at medium or above", () => {
    const report = JSON.parse(readFileSync(path.join(dir, "evidence/posture.json"), "utf8")) as {
      findings: { severity: string }[];
      answers: { keys: { plaintextFiles: number }[] };
    };
    expect(report.findings.filter((f) => ["critical", "high", "medium"].includes(f.severity))).toEqual([]);
    expect(report.answers.keys.length).toBeGreaterThanOrEqual(8);
  });
});
